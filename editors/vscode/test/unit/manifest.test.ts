// Layer 1: package.json's menus offer a command only where it exists. The extension registers
// its commands when it activates on a folder (commands/index.ts sets `devfactory.active`); in a
// window without one the palette, the view titles and the welcome links said "command
// 'devfactory.newRun' not found".
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const pkg = JSON.parse(readFileSync(join(resolve(__dirname, '..', '..'), 'package.json'), 'utf8'));
const { commands, menus, viewsWelcome } = pkg.contributes as {
  commands: { command: string }[];
  menus: Record<string, { command: string; when?: string }[]>;
  viewsWelcome: { view: string; contents: string; when?: string }[];
};
const gated = (when: string | undefined) => when === 'false' || /^devfactory\.active( && |$)/.test(when ?? '');

test('the palette shows each command only once the extension runs on a folder (or never)', () => {
  const palette = new Map(menus.commandPalette.map((entry) => [entry.command, entry.when]));
  const open = commands.map((c) => c.command).filter((command) => !gated(palette.get(command)));
  assert.deepEqual(open, []);
});

for (const menu of ['view/title', 'editor/context']) {
  test(`${menu} offers commands only once the extension runs on a folder`, () => {
    assert.deepEqual(menus[menu].filter((entry) => !gated(entry.when)).map((entry) => entry.command), []);
  });
}

test('the welcome links to DevFactory commands only once they exist, and says to open a folder before', () => {
  const linking = viewsWelcome.filter((w) => w.contents.includes('command:devfactory.'));
  assert.deepEqual(linking.filter((w) => w.when !== 'devfactory.active').map((w) => w.view), []);
  const before = viewsWelcome.filter((w) => w.when === '!devfactory.active');
  assert.deepEqual(before.map((w) => w.view), ['devfactory.runs']);
  assert.match(before[0].contents, /\(command:workbench\.action\.files\.openFolder\)/);
});
