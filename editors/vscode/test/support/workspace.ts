/**
 * Test workspaces: a real git repository in a temp folder (created by the test, so git trusts
 * it) with the files and scripted-provider scripts a scenario needs. Shared by the node tests
 * (layer 1) and the scripts that prepare the extension-host and UI tests (layers 2 and 3).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
}

/** A committed git repository holding `files`; returns its path. */
export function makeGitRepo(files: Record<string, string>, root = mkdtempSync(join(tmpdir(), 'devfactory-vscode-'))): string {
  mkdirSync(root, { recursive: true });
  git(root, 'init', '-q', '-b', 'main');
  writeFiles(root, files);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'initial');
  return root;
}

/** The sample project of the review scenarios: three functions far enough apart to make three hunks. */
export const APP_PY = [
  'def greet():',
  "    return 'hi'",
  '',
  '',
  ...Array.from({ length: 12 }, (_, i) => `# filler ${i + 1}`),
  '',
  '',
  'def farewell():',
  "    return 'bye'",
  '',
  '',
  ...Array.from({ length: 12 }, (_, i) => `# more filler ${i + 1}`),
  '',
  '',
  'def shout(text):',
  '    return text',
  '',
].join('\n');

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** A scripted-provider script: the first turn answers the planning request, each later turn one step. */
export function script(plan: string, steps: ToolCall[][], delayS = 0): string {
  return JSON.stringify({
    turns: [{ text: plan }, ...steps.map((toolCalls) => (delayS ? { toolCalls, delayS } : { toolCalls }))],
  });
}

const edit = (search: string, replace: string): ToolCall => ({ name: 'edit_file', arguments: { path: 'app.py', search, replace } });

/**
 * The review scenario: three edits of app.py (three hunks), a question with choices, a finish.
 * Approving hunk 0 makes greet() say hello; hunk 1 makes farewell() say goodbye; hunk 2 upper-cases.
 */
export const REVIEW_SCRIPT = script('Plan: change greet() to say hello, farewell() to say goodbye, and shout() to upper-case.', [
  [edit("return 'hi'", "return 'hello'")],
  [edit("return 'bye'", "return 'goodbye'")],
  [edit('    return text', '    return text.upper()')],
  [{ name: 'ask_user', arguments: { question: 'Also update the docs?', choices: ['yes', 'no'] } }],
  [{ name: 'finish', arguments: { summary: 'greet() now says hello.' } }],
]);

/** What app.py reads once every hunk of REVIEW_SCRIPT is applied. */
export const APP_PY_ALL_APPROVED = APP_PY.replace("return 'hi'", "return 'hello'")
  .replace("return 'bye'", "return 'goodbye'")
  .replace('    return text\n', '    return text.upper()\n');

/** A run slow enough to pause, resume and cancel: each step thinks for a second and a half. */
export const SLOW_SCRIPT = script(
  'Plan: look around slowly.',
  Array.from({ length: 8 }, () => [{ name: 'list_files', arguments: {} }]),
  1.5,
);

/** The plan of CHATTY_SCRIPT: several lines, streamed in several chunks. */
export const CHATTY_PLAN = 'Plan:\n1. Look at greet()\n2. Note what it says\n3. Finish';

/**
 * A run that talks a lot: a multi-line plan, then a dozen multi-line messages (each streamed in
 * several chunks), enough to fill more than a screen of console.
 */
export const CHATTY_SCRIPT = JSON.stringify({
  turns: [
    { text: CHATTY_PLAN },
    ...Array.from({ length: 12 }, (_, i) => ({
      text: `Noted, recorded as step ${i + 1}.\nThe greeting is fine.\nMoving on.`,
      toolCalls: [{ name: 'list_files', arguments: {} }],
      delayS: 0.1,
    })),
    { toolCalls: [{ name: 'finish', arguments: { summary: 'Looked around twelve times.' } }] },
  ],
});

/**
 * The review-loop scenario: rename the README's title, then finish. A second iteration (after
 * Request Changes) replays it: the edit finds nothing left to change, and the run finishes again.
 */
export const LOOP_SCRIPT = script('Plan: name the project in the README.', [
  [{ name: 'edit_file', arguments: { path: 'README.md', search: '# sample', replace: '# DevFactory sample' } }],
  [{ name: 'finish', arguments: { summary: 'The README names the project.' } }],
]);

/** Talking to runs: a turn to finish, then one that quotes the follow-up it was sent. */
export const TALK_SCRIPT = JSON.stringify({
  turns: [
    { text: 'Plan: answer.' },
    { toolCalls: [{ name: 'finish', arguments: { summary: 'first answer' } }] },
    { text: 'Following up.', quoteLast: true },
    { toolCalls: [{ name: 'finish', arguments: { summary: 'second answer' } }] },
  ],
});

/** Plan mode: propose a plan, then (once approved) write hello.txt and finish. */
export const PLAN_SCRIPT = JSON.stringify({
  turns: [
    { toolCalls: [{ name: 'propose_plan', arguments: { plan: '1. Say hello' } }] },
    { toolCalls: [{ name: 'write_file', arguments: { path: 'hello.txt', content: 'hello\n' } }] },
    { toolCalls: [{ name: 'finish', arguments: { summary: 'said hello' } }] },
  ],
});

/** Two steps that each write notes.txt: two checkpoints to rewind to. */
export const STEPS_SCRIPT = script('Plan: two notes.', [
  [{ name: 'write_file', arguments: { path: 'notes.txt', content: 'one\n' } }],
  [{ name: 'write_file', arguments: { path: 'notes.txt', content: 'two\n' } }],
  [{ name: 'finish', arguments: { summary: 'two notes' } }],
]);

const call = (name: string, args: Record<string, unknown>): ToolCall => ({ name, arguments: args });
const agent = (match: string, ...calls: ToolCall[]) => ({ match, turns: [{ text: `1. ${match}` }, ...calls.map((c) => ({ toolCalls: [c] }))] });

/**
 * The factory scenario (goal "Notes"): the analyst's specification, the architect's plan of one
 * phase ("Write") with two tasks, and their agents: "Write the notes" writes NOTES.md, "Polish
 * the notes" STYLE.md. Each agent's turns are picked by what its run is told first.
 */
export const FACTORY_SCRIPT = JSON.stringify({
  conversations: [
    agent(
      'Specify: Notes',
      call('submit_handoff', {
        schema: 'software_specification',
        content: { core_idea: 'Notes in a file', requirements: ['a notes file'], user_stories: ['As a user I read NOTES.md'], high_level_features: ['notes'] },
      }),
      call('finish', { summary: 'Specified the notes' }),
    ),
    agent(
      'Plan: Notes',
      call('submit_handoff', {
        schema: 'implementation_plan',
        content: {
          architecture: 'one file',
          tech_stack: ['markdown'],
          task_breakdown: [
            { key: 'notes', title: 'Write the notes', phase: 'Write', agent: 'documentation' },
            { key: 'polish', title: 'Polish the notes', phase: 'Write', agent: 'documentation' },
          ],
        },
      }),
      call('finish', { summary: 'Planned one phase' }),
    ),
    agent(': Write the notes\n\n# Initiative', call('write_file', { path: 'NOTES.md', content: '# Notes\n' }), call('finish', { summary: 'NOTES.md written' })),
    agent(': Polish the notes\n\n# Initiative', call('write_file', { path: 'STYLE.md', content: 'Short lines.\n' }), call('finish', { summary: 'STYLE.md written' })),
  ],
});

/** A workspace for the review scenarios: app.py, README.md and the scripts above. */
export function reviewWorkspace(root?: string): string {
  return makeGitRepo(
    {
      'app.py': APP_PY,
      'README.md': '# sample\n',
      'review.json': REVIEW_SCRIPT,
      'slow.json': SLOW_SCRIPT,
      'chatty.json': CHATTY_SCRIPT,
      'loop.json': LOOP_SCRIPT,
      'talk.json': TALK_SCRIPT,
      'plan.json': PLAN_SCRIPT,
      'steps.json': STEPS_SCRIPT,
      'factory.json': FACTORY_SCRIPT,
    },
    root,
  );
}
