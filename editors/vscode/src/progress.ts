/**
 * LSP work-done progress from the daemon (indexing, a working run), surfaced in DevFactory's
 * status bar item.
 * A static client feature registered after vscode-languageclient's own ProgressFeature takes
 * over window/workDoneProgress/create, so each token reports here instead of in a toast.
 */
import * as vscode from 'vscode';
import {
  type ClientCapabilities,
  type FeatureState,
  type LanguageClient,
  type ProgressToken,
  type StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';

export interface ProgressInfo {
  title: string;
  message?: string;
  percentage?: number;
}

export class DaemonProgress implements vscode.Disposable {
  private readonly active = new Map<ProgressToken, ProgressInfo>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  /** The most recent unfinished progress, if any. */
  get current(): ProgressInfo | undefined {
    return [...this.active.values()].pop();
  }

  feature(client: LanguageClient): StaticFeature {
    return {
      getState: (): FeatureState => ({ kind: 'static' }),
      fillClientCapabilities: (capabilities: ClientCapabilities) => {
        capabilities.window = { ...capabilities.window, workDoneProgress: true };
      },
      initialize: () => {
        client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => this.track(client, token));
      },
      clear: () => this.clear(),
    };
  }

  clear(): void {
    this.active.clear();
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }

  private track(client: LanguageClient, token: ProgressToken): void {
    const subscription = client.onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind === 'begin') {
        this.active.set(token, { title: value.title, message: value.message, percentage: value.percentage });
      } else if (value.kind === 'report') {
        const info = this.active.get(token);
        if (info) this.active.set(token, { ...info, message: value.message ?? info.message, percentage: value.percentage ?? info.percentage });
      } else {
        this.active.delete(token);
        subscription.dispose();
      }
      this.changed.fire();
    });
  }
}
