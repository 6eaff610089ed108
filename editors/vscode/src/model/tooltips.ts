/**
 * The Markdown tooltips of the Runs and Initiatives views: a record's name in bold, then what it
 * says about itself. Nothing here imports vscode (the views wrap these in MarkdownString).
 */
import type { Initiative, Proposal, Run, Task } from '../generated/protocol';

export function runTooltip(run: Run): string {
  return (
    `**#${run.id} ${run.title}**\n\n${run.status} · ${run.mode} mode · ${run.provider}${run.model ? `/${run.model}` : ''}` +
    (run.failedReason ? `\n\n${run.failedReason}` : '')
  );
}

export function initiativeTooltip(initiative: Initiative): string {
  return `**${initiative.name}** (${initiative.branch})\n\n${initiative.goal}`;
}

export function taskTooltip(task: Task): string {
  const lines = [`**${task.title}** (${task.status})`, task.description, task.summary && `Summary: ${task.summary}`, task.failedReason];
  if (task.checkpoint) lines.push(`Question: ${task.checkpoint.question}`);
  return lines.filter(Boolean).join('\n\n');
}

export function proposalTooltip(proposal: Proposal): string {
  return `**${proposal.title}**\n\n${proposal.content || proposal.summary}`;
}
