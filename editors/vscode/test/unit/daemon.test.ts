// Layer 1 against the real daemon process: initialize as the extension does, the protocol
// check, settings forwarding and the event replay the console uses.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { PROTOCOL_VERSION, Requests } from '../../src/generated/protocol';
import { checkProtocol } from '../../src/model/daemonCommand';
import { engineText } from '../../src/model/healthText';
import { daemonInitOptions } from '../../src/model/settings';
import { TestDaemon } from '../support/daemon';
import { makeGitRepo } from '../support/workspace';

let workspace: string;
let daemon: TestDaemon;

before(async () => {
  workspace = makeGitRepo({ 'app.py': "def greet():\n    return 'hi'\n", 'README.md': '# sample\n' });
  const set: Record<string, unknown> = { maxSteps: 12, 'index.enabled': false };
  daemon = await TestDaemon.start(workspace, daemonInitOptions((key) => set[key]));
});

after(async () => {
  await daemon.stop();
  rmSync(workspace, { recursive: true, force: true });
});

test('the daemon identifies itself and speaks this extension protocol', async () => {
  assert.equal(daemon.initializeResult?.serverInfo?.name, 'devfactory');
  const health = await daemon.request(Requests.HEALTH, {});
  assert.equal(health.protocolVersion, PROTOCOL_VERSION);
  assert.equal(checkProtocol(health.protocolVersion, health.version), undefined);
  assert.equal(health.databaseOk, true);
  assert.match(engineText(health), /^SQLite 3\.[\d.]+, sqlite-vec /);
});

test('forwarded settings are accepted without a warning', async () => {
  const project = await daemon.request(Requests.PROJECT_INFO, {});
  assert.equal(project.rootPath, workspace);
  assert.deepEqual(daemon.messages, []);
});

test('an invalid setting is reported by name and the daemon still serves', async () => {
  const otherWorkspace = makeGitRepo({ 'a.py': 'x = 1\n' });
  const other = await TestDaemon.start(otherWorkspace, { maxSteps: 0 });
  try {
    const warning = await other.waitFor('a showMessage', () => other.messages[0]);
    assert.equal(warning.type, 2);
    assert.match(warning.message, /maxSteps/);
    assert.equal((await other.request(Requests.HEALTH, {})).databaseOk, true);
  } finally {
    await other.stop();
    rmSync(otherWorkspace, { recursive: true, force: true });
  }
});

test('bad request params come back as an error naming the field', async () => {
  await assert.rejects(
    daemon.request(Requests.EVENTS, { runId: 'seven' as unknown as number }),
    (error: Error & { code?: number }) => error.code === -32602 && /runId/.test(error.message),
  );
});
