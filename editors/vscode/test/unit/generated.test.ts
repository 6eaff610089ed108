// The generated TypeScript protocol and the contributed settings match docs/protocol.schema.json.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DAEMON_SETTING_KEYS, PROTOCOL_VERSION, Requests, RUN_CONTROLS } from '../../src/generated/protocol';

const EXTENSION_DIR = resolve(__dirname, '..', '..');
const schema = JSON.parse(readFileSync(join(EXTENSION_DIR, '..', '..', 'docs', 'protocol.schema.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(EXTENSION_DIR, 'package.json'), 'utf8'));

test('src/generated/protocol.ts and package.json are what the schema generates', () => {
  const run = spawnSync(process.execPath, [join(EXTENSION_DIR, 'scripts', 'generate.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});

test('the constants mirror the schema', () => {
  assert.equal(PROTOCOL_VERSION, schema['x-devfactory-protocol-version']);
  assert.deepEqual(Object.values(Requests).sort(), Object.keys(schema['x-devfactory-requests']).sort());
  assert.deepEqual(RUN_CONTROLS, schema['x-devfactory-run-controls']);
});

test('every daemon setting is contributed to VS Code, with its schema default', () => {
  const daemon = pkg.contributes.configuration.find((s: { title: string }) => s.title === 'DevFactory Daemon');
  assert.deepEqual(Object.keys(daemon.properties).sort(), DAEMON_SETTING_KEYS.map((k) => `devfactory.${k}`).sort());
  const settings = schema.$defs.Settings.properties;
  assert.equal(daemon.properties['devfactory.maxSteps'].default, settings.maxSteps.default);
  assert.deepEqual(daemon.properties['devfactory.defaultMode'].enum, schema.$defs.ExecutionMode.enum);
  assert.equal(daemon.properties['devfactory.index.enabled'].default, schema.$defs.IndexSettings.properties.enabled.default);
});

test('the client settings do not collide with daemon settings', () => {
  const [client, daemon] = pkg.contributes.configuration;
  assert.equal(client.title, 'DevFactory');
  for (const key of Object.keys(client.properties)) assert.ok(!(key in daemon.properties), key);
});
