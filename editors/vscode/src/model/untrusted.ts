/**
 * Model text in VS Code surfaces that read markup. Everything a run produces is the model's:
 * proposed files, paths, run titles, questions, failure reasons, task and proposal text. Where
 * VS Code parses what it is given, that text must stay text:
 * - Markdown (hovers, tooltips): a code block it cannot close, or every markup character
 *   escaped; else it adds links (a trusted hover runs their commands) and images (fetched on
 *   hover: a URL can carry what the run read).
 * - Notifications and input-box prompts: VS Code turns `[label](command:...)` in them into links
 *   it opens with commands allowed, so one click runs any command with any arguments
 *   (messages.ts sends every one through noLinks).
 */

/** `code` in a fenced block that nothing in it can close: its fence is longer than any run of backticks in it. */
export function codeBlock(code: string, languageId: string): string {
  const longest = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${languageId}\n${code}\n${fence}`;
}

/**
 * `text` as Markdown that shows it as written: every ASCII punctuation character escaped
 * (CommonMark allows it for each), so no link, image, autolink or HTML; each line a paragraph.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, '\\$&').replace(/\r\n?|\n/g, '\n\n');
}

/** `text` for a notification or an input-box prompt: no `[label](target)` VS Code would make a link of. */
export function noLinks(text: string): string {
  return text.replace(/\]\(/g, '] (');
}
