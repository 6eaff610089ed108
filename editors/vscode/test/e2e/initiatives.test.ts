/**
 * Layer 2: an initiative in the Initiatives view, in the real extension host: New Initiative
 * plans the goal, its proposals show under the initiative and are dismissed or accepted from
 * the view's commands, the task runs (its run under it), the phase waits for review with its
 * combined diff (a comment on one of its lines), Approve Phase and Apply finish it and the result is in the workspace.
 * Needs the daemon's factory feature (devfactory/initiatives|phases|proposals/*).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DevFactoryApi } from '../../src/extension';
import { type Initiative, InitiativeMode, InitiativeStatus, type PhaseComment, PhaseStatus, Requests, TaskStatus } from '../../src/generated/protocol';
import type { InitiativesNode } from '../../src/views/initiativesTree';
import { runningApi, waitFor } from './wait';

suite('DevFactory Initiatives view', () => {
  let api: DevFactoryApi;
  let initiative: Initiative;
  const tree = () => api.initiatives.tree(initiative.id);
  const item = (node: InitiativesNode) => api.initiativesTree.getTreeItem(node);

  suiteSetup(async () => {
    api = await runningApi();
  });

  test('New Initiative shows the plan as proposals under the initiative', async () => {
    initiative = (await vscode.commands.executeCommand<Initiative>('devfactory.newInitiative', {
      goal: 'Notes',
      mode: InitiativeMode.REVIEW_PER_PHASE,
      provider: 'scripted',
      model: 'factory.json',
    }))!;
    assert.equal(initiative.branch, 'df/notes');
    // The plan's proposals are written before the Planning phase is marked completed.
    const planned = () => tree()?.proposals.length === 4 && tree()?.phases.find((p) => p.name === 'Planning')?.status === PhaseStatus.COMPLETED;
    await waitFor('the plan', planned, 60_000);
    const root = api.initiativesTree.getChildren().find((n) => n.kind === 'initiative' && n.initiativeId === initiative.id)!;
    assert.equal(item(root).label, 'Notes');
    assert.match(String(item(root).description), /^active · review per phase · df\/notes$/);
    const [proposals, planning] = api.initiativesTree.getChildren(root);
    assert.deepEqual(proposals, { kind: 'proposals', initiativeId: initiative.id });
    assert.equal(item(planning!).label, 'Planning');
    assert.equal(item(planning!).contextValue, `phase.${PhaseStatus.COMPLETED}`);
    const shown = api.initiativesTree.getChildren(proposals).map((n) => [item(n).label, item(n).description, item(n).contextValue]);
    assert.deepEqual(
      shown.map(([label, description]) => `${String(description).split(' · ')[0]}: ${String(label)}`),
      ['create page: Software specification', 'create phase: Write', 'create task: Write the notes', 'create task: Polish the notes'],
    );
    assert.ok(shown.every(([, , context]) => context === 'proposal'));
  });

  test('proposals are dismissed and accepted from the view; the task runs', async () => {
    const [page, phase, write, polish] = tree()!.proposals.map((p): InitiativesNode => ({ kind: 'proposal', proposalId: p.id }));
    await vscode.commands.executeCommand('devfactory.dismissProposal', page);
    await vscode.commands.executeCommand('devfactory.dismissProposal', polish);
    await vscode.commands.executeCommand('devfactory.acceptProposal', phase);
    await vscode.commands.executeCommand('devfactory.acceptProposal', write);
    assert.deepEqual(tree()?.proposals, []);
    const task = await waitFor('the task to complete', () => tree()?.tasks.find((t) => t.title === 'Write the notes' && t.status === TaskStatus.COMPLETED), 60_000);
    const node: InitiativesNode = { kind: 'task', taskId: task.id };
    assert.equal(item(node).label, `${task.id}. Write the notes`);
    assert.equal(item(node).description, `completed · documentation · run #${task.runIds[0]}`);
    assert.deepEqual(api.initiativesTree.getChildren(node), [{ kind: 'run', runId: task.runIds[0], taskId: task.id }]);
    assert.deepEqual(item({ kind: 'run', runId: task.runIds[0]!, taskId: task.id }).command?.arguments, [task.runIds[0]]);
  });

  test('the phase waits for review: its diff, Approve Phase, then Apply', async () => {
    const phase = await waitFor('the phase to wait for review', () => tree()?.phases.find((p) => p.status === PhaseStatus.PENDING_REVIEW));
    const node: InitiativesNode = { kind: 'phase', phaseId: phase.id };
    assert.equal(item(node).contextValue, 'phase.pending_review');
    assert.equal(item(node).command?.command, 'devfactory.showPhaseDiff');
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('devfactory.showPhaseDiff', node);
    assert.equal(editor?.document.languageId, 'diff');
    assert.match(editor!.document.getText(), /^\+# Notes$/m);
    const added = editor!.document.getText().split('\n').indexOf('+# Notes');
    editor!.selection = new vscode.Selection(added, 0, added, 0);
    const comment = await vscode.commands.executeCommand<PhaseComment>('devfactory.commentPhaseLine', 'Say what the notes are for');
    assert.deepEqual([comment?.path, comment?.line, comment?.side], ['NOTES.md', 1, 'new']);
    const { comments } = await api.client.request(Requests.PHASES_COMMENTS, { phaseId: phase.id });
    assert.deepEqual(comments.map((c) => c.body), ['Say what the notes are for']);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    await vscode.commands.executeCommand('devfactory.approvePhase', node);
    await waitFor('the initiative to wait for its result', () => tree()?.initiative.status === InitiativeStatus.PENDING_REVIEW, 60_000);
    const root: InitiativesNode = { kind: 'initiative', initiativeId: initiative.id };
    assert.equal(item(root).contextValue, 'initiative.pending_review');
    const applied = await vscode.commands.executeCommand<{ snapshotId: number | null }>('devfactory.applyInitiative', root);
    assert.ok(applied?.snapshotId, 'a snapshot undoes the initiative');
    // Applied changes arrive as workspace edits (undoable in the editor): read the document.
    const notes = vscode.Uri.joinPath(api.root, 'NOTES.md');
    await waitFor('NOTES.md in the workspace', async () => (await vscode.workspace.openTextDocument(notes)).getText() === '# Notes\n');
    await waitFor('the initiative completed', () => tree()?.initiative.status === InitiativeStatus.COMPLETED);
    assert.equal(item(root).contextValue, 'initiative.completed');
  });
});
