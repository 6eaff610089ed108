/**
 * The Markdown tooltips of the Runs and Initiatives views: a record's name in bold, then what it
 * says about itself. All of that is model text, escaped (model/untrusted.ts): VS Code loads the
 * images of a tooltip's Markdown when it shows, so a title with ![](https://...?<what the run
 * read>) sent it out on hover. Nothing here imports vscode (the views wrap these in
 * MarkdownString).
 */
import type { Initiative, Proposal, Run, Task } from '../generated/protocol';
import { escapeMarkdown as text } from './untrusted';

export function runTooltip(run: Run): string {
  return (
    `**#${run.id} ${text(run.title)}**\n\n${run.status} · ${run.mode} mode · ${text(run.provider)}${run.model ? `/${text(run.model)}` : ''}` +
    (run.failedReason ? `\n\n${text(run.failedReason)}` : '')
  );
}

export function initiativeTooltip(initiative: Initiative): string {
  return `**${text(initiative.name)}** (${text(initiative.branch)})\n\n${text(initiative.goal)}`;
}

export function taskTooltip(task: Task): string {
  const said = [task.description, task.summary && `Summary: ${task.summary}`, task.failedReason, task.checkpoint && `Question: ${task.checkpoint.question}`];
  return [`**${text(task.title)}** (${task.status})`, ...said.filter((line): line is string => Boolean(line)).map(text)].join('\n\n');
}

export function proposalTooltip(proposal: Proposal): string {
  return `**${text(proposal.title)}**\n\n${text(proposal.content || proposal.summary)}`;
}
