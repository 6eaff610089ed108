/**
 * What Approve All and Reject All say. The daemon decides a run's proposed changes only, and a
 * rejected change is decided for good: Reject All names what it drops and asks first.
 */
import type { ModalQuestion } from './modalQuestion';
import { plural } from './plural';

/** The pickers offer only runs with proposed changes; this is what they say when there is none. */
export const NOTHING_PROPOSED = 'DevFactory: no run has proposed changes to decide.';

export function nothingProposedOf(runId: number): string {
  return `DevFactory: run #${runId} has no proposed changes.`;
}

/** `title` is undefined for a run the Runs view does not list (it lists the newest 200). */
export function rejectAllQuestion(runId: number, title: string | undefined, proposed: number): ModalQuestion {
  return {
    message: `Reject ${plural(proposed, 'proposed change')} of run #${runId}${title ? ` (${title})` : ''}?`,
    detail: 'Your files stay as they are; a rejected change cannot be approved later.',
    action: 'Reject All',
  };
}
