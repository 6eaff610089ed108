/**
 * Model text in VS Code surfaces that read markup. Everything a run produces is the model's:
 * proposed files, paths, run titles, questions, failure reasons, task and proposal text. Where
 * VS Code parses what it is given, that text must stay text:
 * - Markdown (hovers): a code block it cannot close; else it adds links (a trusted hover runs
 *   their commands) and images (fetched on hover: a URL can carry what the run read).
 */

/** `code` in a fenced block that nothing in it can close: its fence is longer than any run of backticks in it. */
export function codeBlock(code: string, languageId: string): string {
  const longest = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${languageId}\n${code}\n${fence}`;
}
