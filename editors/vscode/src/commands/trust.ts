/**
 * Trust Workspace Settings and Revoke Workspace Trust: the settings a workspace's own files set
 * that wait for the user's trust (`devfactory/workspace/*`), shown read-only, then a modal.
 *
 * The commands take no arguments: a `command:` link or a `${command:}` in a workspace's file
 * can only open the same review, which the user still answers. After a trust or a revoke the
 * daemon restarts: it reads its settings once, at initialize, and builds its services from them.
 */
import * as vscode from 'vscode';
import { Requests, type WorkspaceTrust } from '../generated/protocol';
import { showInformationMessage, showWarningMessage } from '../messages';
import { trustReviewText, trustWarning } from '../model/trustText';
import { registerCommand, type Services } from './services';

const SCHEME = 'devfactory-trust';
const REVIEW_ACTION = 'Review and trust…';

export function registerTrustCommands(s: Services): vscode.Disposable[] {
  const shown = new Map<string, string>();
  return [
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, { provideTextDocumentContent: (uri) => shown.get(uri.toString()) ?? '' }),
    registerCommand('trustWorkspace', () => reviewAndTrust(s, shown)),
    registerCommand('revokeWorkspaceTrust', () => revoke(s)),
  ];
}

/** Warn, with the review one click away, when settings of the workspace wait for trust. */
export async function offerTrustReview(s: Services): Promise<void> {
  const warning = trustWarning(await s.client.request(Requests.WORKSPACE_TRUST_STATUS, {}));
  if (!warning) return;
  const choice = await showWarningMessage(warning, REVIEW_ACTION);
  if (choice === REVIEW_ACTION) await vscode.commands.executeCommand('devfactory.trustWorkspace');
}

async function reviewAndTrust(s: Services, shown: Map<string, string>): Promise<WorkspaceTrust | undefined> {
  const review = await s.client.request(Requests.WORKSPACE_TRUST_STATUS, {});
  if (review.sources.length === 0) {
    void showInformationMessage('DevFactory: this workspace sets nothing that needs your trust.');
    return review;
  }
  const uri = vscode.Uri.from({ scheme: SCHEME, path: '/workspace settings awaiting trust', query: review.digest });
  shown.set(uri.toString(), trustReviewText(review));
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
  const files = review.sources.map((source) => source.source).join(' and ');
  const answer = await showWarningMessage(
    `Trust the settings of this workspace's ${files}?`,
    {
      modal: true,
      detail: 'They run programs as you or choose where your keys go (shown in the editor). The daemon restarts to apply them.',
    },
    'Trust',
  );
  if (answer !== 'Trust') return undefined;
  const trusted = await s.client.request(Requests.WORKSPACE_TRUST, { digest: review.digest });
  await s.client.restart();
  void showInformationMessage(`DevFactory: trusted this workspace's ${files}; the daemon restarted with them.`);
  return trusted;
}

async function revoke(s: Services): Promise<WorkspaceTrust | undefined> {
  const answer = await showWarningMessage(
    "Stop applying this workspace's own settings that need trust?",
    { modal: true, detail: 'The daemon restarts without them; trust them again at any time.' },
    'Revoke',
  );
  if (answer !== 'Revoke') return undefined;
  const revoked = await s.client.request(Requests.WORKSPACE_REVOKE_TRUST, {});
  await s.client.restart();
  void showInformationMessage('DevFactory: workspace trust revoked; the daemon restarted without those settings.');
  return revoked;
}
