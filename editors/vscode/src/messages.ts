/**
 * The extension's notifications and input boxes. VS Code makes `[label](command:...)` in a
 * notification's message (or a modal's detail) and in an input box's prompt a link it opens with
 * commands allowed: one click runs any command with any arguments. These messages carry model
 * text (run titles, failure reasons, questions, paths, the daemon's errors about them), so each
 * goes through noLinks here; eslint.config.mjs keeps the `vscode.window` calls in this file.
 * The daemon's window/showMessage, which vscode-languageclient shows itself, is read through
 * model/linkFreeReader.ts instead.
 */
import * as vscode from 'vscode';
import { noLinks } from './model/untrusted';

type Show = (message: string, ...rest: unknown[]) => Thenable<string | undefined>;

function show(fn: Show, message: string, rest: unknown[]): Thenable<string | undefined> {
  const [first, ...items] = rest;
  if (typeof first === 'object' && first !== null) {
    const options = first as vscode.MessageOptions;
    return fn(noLinks(message), { ...options, detail: options.detail === undefined ? undefined : noLinks(options.detail) }, ...items);
  }
  return fn(noLinks(message), ...rest);
}

export function showInformationMessage(message: string, ...items: string[]): Thenable<string | undefined>;
export function showInformationMessage(message: string, options: vscode.MessageOptions, ...items: string[]): Thenable<string | undefined>;
export function showInformationMessage(message: string, ...rest: unknown[]): Thenable<string | undefined> {
  return show((vscode.window.showInformationMessage as Show).bind(vscode.window), message, rest);
}

export function showWarningMessage(message: string, ...items: string[]): Thenable<string | undefined>;
export function showWarningMessage(message: string, options: vscode.MessageOptions, ...items: string[]): Thenable<string | undefined>;
export function showWarningMessage(message: string, ...rest: unknown[]): Thenable<string | undefined> {
  return show((vscode.window.showWarningMessage as Show).bind(vscode.window), message, rest);
}

export function showErrorMessage(message: string, ...items: string[]): Thenable<string | undefined>;
export function showErrorMessage(message: string, options: vscode.MessageOptions, ...items: string[]): Thenable<string | undefined>;
export function showErrorMessage(message: string, ...rest: unknown[]): Thenable<string | undefined> {
  return show((vscode.window.showErrorMessage as Show).bind(vscode.window), message, rest);
}

/** `vscode.window.showInputBox`, its prompt without links (the title is plain text already). */
export function showInputBox(options: vscode.InputBoxOptions, token?: vscode.CancellationToken): Thenable<string | undefined> {
  return vscode.window.showInputBox({ ...options, prompt: options.prompt === undefined ? undefined : noLinks(options.prompt) }, token);
}
