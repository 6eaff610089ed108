// The vscode-free logic of the extension: restart backoff, hunk anchors, daemon command and
// start-up errors, settings forwarding, console rendering, the event log's dedupe, where a
// phase diff's lines are, the health report's database engine and the workspace trust review.
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Event, type Health, type Hunk, PROTOCOL_VERSION, type WorkspaceTrust } from '../../src/generated/protocol';
import { RestartBackoff } from '../../src/model/backoff';
import { clock, renderConsole } from '../../src/model/consoleText';
import { checkProtocol, daemonCommand, missingDaemon } from '../../src/model/daemonCommand';
import { EventLog } from '../../src/model/eventLog';
import { healthDetail } from '../../src/model/healthText';
import { hunkAnchorLine, hunkPlaces, inlineRows, parseHunkCode } from '../../src/model/hunks';
import { phaseDiffText } from '../../src/model/phaseDiff';
import { daemonInitOptions, settingValue } from '../../src/model/settings';
import { trustReviewText, trustWarning } from '../../src/model/trustText';

test('restart backoff doubles up to the cap and resets after a healthy run', () => {
  let now = 0;
  const backoff = new RestartBackoff({ initialMs: 1000, maxMs: 8000, healthyAfterMs: 60_000 }, () => now);
  const delays = Array.from({ length: 6 }, () => backoff.crashed());
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
  backoff.started();
  now += 60_000;
  assert.equal(backoff.crashed(), 1000);
});

const hunk = (oldStart: number, oldLines: number): Hunk => ({
  index: 0, oldStart, oldLines, newStart: oldStart, newLines: 1, header: '', status: 'proposed',
});

for (const [name, h, lineCount, expected] of [
  ['a change on line 5 sits above line 5 (0-based 4)', hunk(5, 2), 30, 4],
  ['an insertion after line 3 sits above line 4 (0-based 3)', hunk(3, 0), 30, 3],
  ['an insertion at the top sits above line 1', hunk(0, 0), 30, 0],
  ['a hunk past the end of an edited document is clamped', hunk(40, 1), 10, 9],
] as const) {
  test(`hunk anchor: ${name}`, () => assert.equal(hunkAnchorLine(h, lineCount), expected));
}

test('diagnostic codes name their change and hunk', () => {
  assert.deepEqual(parseHunkCode('change-4-hunk-1'), { changeId: 4, hunk: 1 });
  assert.equal(parseHunkCode('change-4'), undefined);
  assert.equal(parseHunkCode(7), undefined);
});

const proposed = ['def greet():', "    return 'hello'", '    # new', '    # lines', 'x = 1'];
const change = (hunks: Hunk[]) => ({ status: 'proposed', hunks }) as unknown as Parameters<typeof hunkPlaces>[0];
for (const [name, h, lineCount, mapped, expected] of [
  ['a one-line replacement pairs old and new', { ...hunk(2, 1), newStart: 2 }, 10, undefined, [{ line: 1, removed: true, text: "return 'hello'" }]],
  [
    'new lines past the old ones are summed up on the last old line',
    { ...hunk(2, 1), newStart: 2, newLines: 3 },
    10,
    undefined,
    [{ line: 1, removed: true, text: "return 'hello'  ·  2 more: # new ⏎ # lines" }],
  ],
  ['an old line without a replacement is only removed', { ...hunk(2, 2), newStart: 2, newLines: 1 }, 10, undefined, [{ line: 1, removed: true, text: "return 'hello'" }, { line: 2, removed: true, text: '' }]],
  ['an insertion shows on the line it follows', { ...hunk(2, 0), newStart: 3, newLines: 2 }, 10, undefined, [{ line: 1, removed: false, text: '# new  ·  1 more: # lines' }]],
  ['an append at the end shows on the last line', { ...hunk(4, 0), newStart: 5, newLines: 1 }, 4, undefined, [{ line: 3, removed: false, text: 'x = 1' }]],
  ["the daemon's mapped line wins", { ...hunk(2, 1), newStart: 2 }, 10, new Map([[0, 6]]), [{ line: 6, removed: true, text: "return 'hello'" }]],
] as const) {
  test(`inline rows: ${name}`, () => {
    const [place] = hunkPlaces(change([h as Hunk]), lineCount, mapped);
    assert.deepEqual(inlineRows(place, proposed, lineCount), expected);
  });
}

test('daemon command: the executable by default (~ is home), python -m when a python is set', () => {
  assert.deepEqual(daemonCommand({ path: '/opt/df/bin/devfactory', pythonPath: '' }), { command: '/opt/df/bin/devfactory', args: ['serve', '--stdio'] });
  assert.deepEqual(daemonCommand({ path: '', pythonPath: ' ' }), { command: 'devfactory', args: ['serve', '--stdio'] });
  assert.deepEqual(daemonCommand({ path: '~/src/devfactory/.venv/bin/devfactory', pythonPath: '' }).command, join(homedir(), 'src/devfactory/.venv/bin/devfactory'));
  assert.deepEqual(daemonCommand({ path: 'devfactory', pythonPath: '/usr/bin/python3' }), {
    command: '/usr/bin/python3',
    args: ['-P', '-m', 'devfactory.server', 'serve', '--stdio'],
  });
});

test('a missing daemon names the setting that fixes it', () => {
  const error = missingDaemon({ command: 'nope-devfactory', args: [] }, Object.assign(new Error('spawn'), { code: 'ENOENT' }));
  assert.equal(error.problem, 'missing');
  assert.match(error.userMessage, /"nope-devfactory" was not found/);
  assert.match(error.userMessage, /devfactory\.server\.path/);
  assert.match(error.userMessage, /uv sync/);
});

test('protocol check: same version passes, older and newer daemons are told apart', () => {
  assert.equal(checkProtocol(PROTOCOL_VERSION, 'devfactory 0.1.0'), undefined);
  assert.equal(checkProtocol(undefined, 'devfactory 0.0.1')?.problem, 'too-old');
  assert.match(checkProtocol('0', 'devfactory 0.0.1')!.userMessage, /too old.*git pull && uv sync/s);
  assert.equal(checkProtocol(String(Number(PROTOCOL_VERSION) + 1), 'devfactory 9')?.problem, 'too-new');
});

test('only explicitly set daemon settings are forwarded, nested like the Settings type', () => {
  const set: Record<string, unknown> = { maxSteps: 7, 'index.enabled': false, 'providers': { scripted: { script: 's.json' } } };
  assert.deepEqual(daemonInitOptions((key) => set[key]), {
    maxSteps: 7,
    index: { enabled: false },
    providers: { scripted: { script: 's.json' } },
  });
  assert.deepEqual(daemonInitOptions(() => undefined), {});
});

test("a workspace's own VS Code settings set only what its devfactory.toml may set alone", () => {
  const everywhere = { globalValue: 'user', workspaceValue: 'workspace', workspaceFolderValue: 'folder' };
  assert.equal(settingValue('index.exclude', everywhere), 'folder');
  assert.equal(settingValue('maxSteps', { globalValue: 3, workspaceValue: 9 }), 9);
  // What chooses the programs run as the user or where keys go is the user's alone.
  for (const key of ['providers', 'defaultProvider', 'defaultMode', 'commands.sandbox', 'mcp.servers', 'storage.url']) {
    assert.equal(settingValue(key, everywhere), 'user', key);
    assert.equal(settingValue(key, { workspaceValue: 'evil' }), undefined, key);
  }
});

const event = (id: number, fields: Partial<Event> = {}): Event => ({
  id, projectId: 1, runId: 3, type: 'ai_message', severity: 'info', title: `event ${id}`, message: '',
  payload: {}, createdAt: '2026-11-22T10:11:12+00:00', ...fields,
});

test('event log: replay and live merge by id, in order, once each', () => {
  const log = new EventLog(3);
  assert.equal(log.add(event(2)), true);
  assert.equal(log.add(event(1)), true);
  assert.equal(log.add(event(2)), false, 'a duplicate is dropped');
  assert.equal(log.add(event(4, { runId: 9 })), false, "another run's event is dropped");
  assert.equal(log.add(event(3)), true);
  assert.deepEqual(log.events.map((e) => e.id), [1, 2, 3]);
  assert.equal(log.lastId, 3);
});

test('event log: streamed text shows until the whole message arrives', () => {
  const log = new EventLog(3);
  log.addStream('Plan: chan');
  log.addStream('ge greet()');
  assert.equal(log.streaming, 'Plan: change greet()');
  log.add(event(1, { type: 'ai_plan_created', payload: { plan: 'Plan: change greet()', steps: [] } }));
  assert.equal(log.streaming, '');
});

test('console text: severities, details, folded command output and streaming tail', () => {
  const events = [
    event(1, { type: 'user_prompt', title: 'Prompt', payload: { prompt: 'Fix it', iteration: 1 } }),
    event(2, { type: 'command_started', title: '$ pytest -q', payload: { executionId: 7, command: 'pytest -q' } }),
    event(3, { type: 'command_output', title: 'output', payload: { executionId: 7, stream: 'stdout', text: '1 passed\n2 warnings\n', truncated: false } }),
    event(4, { type: 'command_completed', severity: 'success', title: 'pytest -q exited 0', payload: { executionId: 7, command: 'pytest -q', exitCode: 0 } }),
    event(5, { type: 'error', severity: 'error', title: 'Tool failed', payload: { message: 'no such file', detail: null } }),
  ];
  const { text, folds } = renderConsole(undefined, 3, events, 'thinking…');
  const t = clock(events[0].createdAt);
  assert.equal(
    text,
    [
      'Run #3',
      '',
      `${t} INFO   Prompt`,
      `${' '.repeat(17)}Fix it`,
      `${t} INFO   $ pytest -q`,
      `${' '.repeat(17)}│ 1 passed`,
      `${' '.repeat(17)}│ 2 warnings`,
      `${t} OK     pytest -q exited 0`,
      `${t} ERROR  Tool failed`,
      `${' '.repeat(17)}no such file`,
      `${' '.repeat(17)}▍ thinking…`,
      '',
    ].join('\n'),
  );
  assert.deepEqual(folds, [{ start: 4, end: 7 }]);
});

test('console text: a multi-line plan or message shows once, its steps not again', () => {
  const plan = 'Plan:\n1. Read app.py\n2. Finish';
  const text = 'Noted, recorded as asked.\nMoving on.';
  const { text: console } = renderConsole(undefined, 3, [
    event(1, { type: 'ai_plan_created', title: 'Plan', message: plan, payload: { plan, steps: ['Read app.py', 'Finish'] } }),
    event(2, { type: 'ai_message', title: 'Assistant', message: text, payload: { text } }),
  ], '');
  for (const line of [...plan.split('\n'), ...text.split('\n')]) {
    assert.equal(console.split(line).length - 1, 1, `${JSON.stringify(line)} once in:\n${console}`);
  }
});

test("a phase diff's lines map to the file lines they show", () => {
  const diff = ['diff --git a/a.py b/a.py', '--- a/a.py', '+++ b/a.py', '@@ -1,3 +1,3 @@', ' one', '-two', '+TWO', ' three', '@@ -10 +10,2 @@', '+ten', ''].join('\n');
  const shown = phaseDiffText([{ path: 'a.py', diff }, { path: 'b.py', diff: '@@ -0,0 +1 @@\n+new\n' }]);
  assert.equal(shown.text.split('\n').length, 13);
  assert.deepEqual(
    [...shown.places],
    [
      [4, { path: 'a.py', line: 1, side: 'new' }],
      [5, { path: 'a.py', line: 2, side: 'old' }],
      [6, { path: 'a.py', line: 2, side: 'new' }],
      [7, { path: 'a.py', line: 3, side: 'new' }],
      [9, { path: 'a.py', line: 10, side: 'new' }],
      [11, { path: 'b.py', line: 1, side: 'new' }],
    ],
  );
  assert.equal(phaseDiffText([]).text, '(the phase changed nothing)\n');
});

test('the health report names the engine the daemon reports, and its vector extension', () => {
  const health = (engine: string, version: string, vectors: string | null, path: string): Health => ({
    counts: { runs: 2 }, databaseEngine: engine, databaseOk: true, databasePath: path, databaseProblem: null,
    embedder: null, logPath: '/w/.devfactory/logs/daemon.log', projectId: 1, protocolVersion: PROTOCOL_VERSION,
    provider: null, pythonVersion: '3.11.7', sandbox: { active: false, reason: 'no bwrap', source: null, tool: null, version: null },
    schemaVersion: 4, sqliteVecVersion: vectors, sqliteVersion: version, version: '0.1.0',
  });
  const lines = (h: Health) => healthDetail(h).split('\n').slice(1, 3);
  assert.deepEqual(lines(health('sqlite', '3.45.1', 'v0.1.6', '/w/.devfactory/devfactory.db')), [
    'SQLite 3.45.1, sqlite-vec v0.1.6',
    'database ok: /w/.devfactory/devfactory.db',
  ]);
  assert.deepEqual(lines(health('postgresql', '15.14', null, 'postgresql://team@db/devfactory')), [
    'PostgreSQL 15.14, pgvector none (distances in SQL)',
    'database ok: postgresql://team@db/devfactory',
  ]);
  assert.equal(lines(health('postgresql', '16.4', '0.7.4', 'postgresql://db/x'))[0], 'PostgreSQL 16.4, pgvector 0.7.4');
});

test('the trust review shows each file with what would apply; the warning names what waits', () => {
  const review: WorkspaceTrust = {
    root: '/w',
    digest: 'd',
    trusted: false,
    sources: [
      { source: 'devfactory.toml', path: '/w/devfactory.toml', text: '{\n  "commands": {}\n}', trusted: false },
      { source: '.devfactory/commands.toml', path: '/w/.devfactory/commands.toml', text: '[[allow]]', trusted: true },
    ],
  };
  assert.match(trustWarning(review) ?? '', /this workspace's devfactory.toml sets what runs as you/);
  assert.equal(trustWarning({ ...review, sources: review.sources.map((s) => ({ ...s, trusted: true })) }), undefined);
  const text = trustReviewText(review).split('\n');
  assert.deepEqual(text.slice(3), ['', '# /w/devfactory.toml', '{', '  "commands": {}', '}', '', '# /w/.devfactory/commands.toml (trusted)', '[[allow]]', '']);
});
