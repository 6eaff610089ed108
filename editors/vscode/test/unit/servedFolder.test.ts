// Layer 1: a multi-root window's other folders are left out (the daemon serves the first), and
// the user is told so once per served folder. Nothing said so before: the others just did nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { otherFoldersNotice } from '../../src/model/servedFolder';

const proj = { name: 'proj', path: '/work/proj' };
const docs = { name: 'docs', path: '/work/docs' };
const site = { name: 'site', path: '/work/site' };
const tail = 'To work on another, put it first in the workspace and reload the window.';

for (const [name, folders, toldFor, expected] of [
  ['one folder: nothing to say', [proj], undefined, undefined],
  ['two folders', [proj, docs], undefined, `DevFactory works on proj (/work/proj) only, the window's first folder; it leaves out 1 other folder (docs). ${tail}`],
  ['three folders', [proj, docs, site], undefined, `DevFactory works on proj (/work/proj) only, the window's first folder; it leaves out 2 other folders (docs, site). ${tail}`],
  ['already told for the served folder', [proj, docs], proj.path, undefined],
  ['told for another folder, which was first then', [proj, docs], docs.path, `DevFactory works on proj (/work/proj) only, the window's first folder; it leaves out 1 other folder (docs). ${tail}`],
] as const) {
  test(`multi-root notice: ${name}`, () => assert.equal(otherFoldersNotice(folders, toldFor), expected));
}
