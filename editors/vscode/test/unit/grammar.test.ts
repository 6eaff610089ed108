// The devfactory-console grammar (syntaxes/), tokenized by vscode-textmate with the oniguruma
// regex engine VS Code itself uses: event lines by severity, command output, and the model's
// words as markdown (headings, lists, fenced code, bold, inline code, links).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import { INITIAL, type IGrammar, parseRawGrammar, Registry } from 'vscode-textmate';

const root = join(__dirname, '..', '..');

async function loadGrammar(): Promise<IGrammar> {
  const wasm = readFileSync(join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (s) => new oniguruma.OnigScanner(s), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async () => {
      const path = join(root, 'syntaxes', 'devfactory-console.tmLanguage.json');
      return parseRawGrammar(readFileSync(path, 'utf8'), path);
    },
  });
  return (await registry.loadGrammar('text.devfactory-console'))!;
}

/** Each token's text with the last scope it has, for the lines given. */
function scopes(grammar: IGrammar, lines: string[]): [string, string][] {
  let state = INITIAL;
  const out: [string, string][] = [];
  for (const line of lines) {
    const { tokens, ruleStack } = grammar.tokenizeLine(line, state);
    state = ruleStack;
    for (const t of tokens) {
      const text = line.slice(t.startIndex, t.endIndex);
      if (text.trim()) out.push([text, t.scopes[t.scopes.length - 1]]);
    }
  }
  return out;
}

const GUTTER = ' '.repeat(17);

test("the model's words are markdown: heading, list, bold, inline code, link, fenced code", async () => {
  const grammar = await loadGrammar();
  const got = scopes(grammar, [
    `${GUTTER}## Plan`,
    `${GUTTER}1. Read **app.py** and \`greet()\``,
    `${GUTTER}See [the docs](https://example.invalid/x).`,
    `${GUTTER}\`\`\`python`,
    `${GUTTER}return 'hello'`,
    `${GUTTER}\`\`\``,
  ]);
  const find = (text: string) => got.find(([t]) => t.trim() === text)?.[1];
  assert.equal(find('## Plan'), 'markup.heading.markdown');
  assert.equal(find('1.'), 'punctuation.definition.list.begin.markdown');
  assert.equal(find('**app.py**'), 'markup.bold.markdown');
  assert.equal(find('`greet()`'), 'markup.inline.raw.string.markdown');
  assert.equal(find('the docs'), 'string.other.link.title.markdown');
  assert.equal(find("return 'hello'"), 'markup.raw.block.markdown');
});

test('event lines by severity and command output keep their colours', async () => {
  const grammar = await loadGrammar();
  const got = scopes(grammar, ['12:00:01 ERROR  Tests failed', `${GUTTER}│ 1 failed`]);
  assert.deepEqual(got, [
    ['12:00:01', 'comment'],
    ['ERROR', 'token.error-token'],
    ['Tests failed', 'token.error-token'],
    ['│', 'comment'],
    ['1 failed', 'string'],
  ]);
});
