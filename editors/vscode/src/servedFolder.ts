/** Which workspace folder the extension serves, said once in a multi-root window (model/servedFolder.ts). */
import * as vscode from 'vscode';
import { showInformationMessage } from './messages';
import { otherFoldersNotice } from './model/servedFolder';

const TOLD_FOR = 'devfactory.otherFoldersToldFor';

/** The window's first folder if it is on disk, else undefined (the extension then stays off). */
export function servedFolder(state: vscode.Memento): vscode.Uri | undefined {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const root = folders[0]?.uri;
  if (!root || root.scheme !== 'file') return undefined;
  const notice = otherFoldersNotice(folders.map((f) => ({ name: f.name, path: f.uri.fsPath })), state.get<string>(TOLD_FOR));
  if (notice) {
    void state.update(TOLD_FOR, root.fsPath);
    void showInformationMessage(notice);
  }
  return root;
}
