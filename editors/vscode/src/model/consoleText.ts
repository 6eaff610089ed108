/**
 * The text of a run console: one line per event (time, severity, title) with its details
 * indented below, command output nested under its command (a fold range each), and the model
 * text still streaming at the end. The devfactory-console grammar colours the severity column.
 */
import {
  type Event,
  type EventPayloads,
  EventType,
  type Run,
  type Severity,
} from '../generated/protocol';

export interface FoldRange {
  /** 0-based first line (the command) and last line (its last output or its result). */
  start: number;
  end: number;
}

/** A line of the console where the run can be rewound: the step's checkpoint. */
export interface RewindPoint {
  line: number;
  step: number;
}

export interface ConsoleText {
  text: string;
  folds: FoldRange[];
  rewindPoints: RewindPoint[];
}

const LABELS: Record<Severity, string> = {
  info: 'INFO',
  success: 'OK',
  warning: 'WARN',
  error: 'ERROR',
  debug: 'DEBUG',
};
const GUTTER = ' '.repeat(17);
const OUTPUT_BAR = '│ ';
const STREAM_BAR = '▍ ';

export function clock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '--:--:--';
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function runHeader(run: Run | undefined, runId: number): string {
  if (!run) return `Run #${runId}`;
  const model = run.model ? ` · ${run.provider}/${run.model}` : ` · ${run.provider}`;
  return `Run #${run.id} · ${run.title} · ${run.status} · ${run.agent}${model} · ${run.mode}`;
}

type Payload<T extends keyof EventPayloads> = EventPayloads[T];

/** Detail lines of an event: its message, else what its payload says. */
export function eventDetails(event: Event): string[] {
  const p = event.payload as Record<string, unknown>;
  const lines: string[] = [];
  switch (event.type) {
    case EventType.USER_PROMPT:
      lines.push(...String((p as unknown as Payload<'user_prompt'>).prompt ?? '').split('\n'));
      break;
    case EventType.AI_MESSAGE:
      lines.push(...String((p as unknown as Payload<'ai_message'>).text ?? '').split('\n'));
      break;
    case EventType.AI_PLAN_CREATED: {
      // The steps are read out of the plan's text: number them only when there is no text.
      const plan = p as unknown as Payload<'ai_plan_created'>;
      if (plan.plan?.trim()) lines.push(...plan.plan.split('\n'));
      else (plan.steps ?? []).forEach((step, i) => lines.push(`${i + 1}. ${step}`));
      break;
    }
    case EventType.PAUSED_FOR_INPUT: {
      const q = p as unknown as Payload<'paused_for_input'>;
      lines.push(`? ${q.question}`);
      if (q.choices?.length) lines.push(`  choices: ${q.choices.join(' / ')}`);
      break;
    }
    case EventType.FINAL_SUMMARY: {
      const s = p as unknown as Payload<'final_summary'>;
      lines.push(...String(s.summary ?? '').split('\n'));
      if (s.filesChanged?.length) lines.push(`files: ${s.filesChanged.join(', ')}`);
      break;
    }
    case EventType.ERROR: {
      const e = p as unknown as Payload<'error'>;
      lines.push(...[e.message, e.detail].filter((x): x is string => !!x).flatMap((x) => x.split('\n')));
      break;
    }
    case EventType.AI_CONTEXT_LOADED: {
      // What the prompt carries: the rules files and what the user attached.
      const c = p as unknown as Payload<'ai_context_loaded'>;
      for (const rule of c.rules ?? []) {
        lines.push(`rules: ${rule.path}${rule.appliesTo ? ` (for ${rule.appliesTo})` : ''}${rule.truncated ? ' (cut)' : ''}`);
      }
      for (const a of c.attachments ?? []) {
        const span = a.startLine && a.endLine ? `:${a.startLine}-${a.endLine}` : '';
        lines.push(`attached: ${a.path}${span} (${a.note || a.kind})${a.truncated ? ' (cut)' : ''}`);
      }
      break;
    }
    case EventType.CONTEXT_TRUNCATED:
      lines.push(...((p as unknown as Payload<'context_truncated'>).details ?? []));
      break;
    case EventType.CHECKPOINT_CREATED: {
      const c = p as unknown as Payload<'checkpoint_created'>;
      if (c.files?.length) lines.push(`files: ${c.files.join(', ')}`);
      break;
    }
    case EventType.RUN_REWOUND: {
      const r = p as unknown as Payload<'run_rewound'>;
      if (r.files?.length) lines.push(`files put back: ${r.files.join(', ')}`);
      break;
    }
    default:
      break;
  }
  // The message often repeats the payload's text (a plan, a model message): show it once.
  if (event.message.trim() && !lines.join('\n').includes(event.message.trim())) lines.unshift(...event.message.split('\n'));
  while (lines.length && !lines[0].trim()) lines.shift();
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  return lines;
}

export function renderConsole(run: Run | undefined, runId: number, events: readonly Event[], streaming: string): ConsoleText {
  const lines: string[] = [runHeader(run, runId), ''];
  const folds: FoldRange[] = [];
  const rewindPoints: RewindPoint[] = [{ line: 0, step: 0 }];
  const openCommands = new Map<number | string, FoldRange>();
  const commandKey = (payload: Record<string, unknown>): number | string =>
    (payload['executionId'] as number | null | undefined) ?? String(payload['command'] ?? '');

  for (const event of events) {
    // The conversation's messages: the model's text shows as ai_message, tool results as the
    // tools' own events.
    if (event.type === EventType.CONVERSATION_MESSAGE_ADDED) continue;
    const p = event.payload as Record<string, unknown>;
    if (event.type === EventType.COMMAND_OUTPUT) {
      const out = p as unknown as Payload<'command_output'>;
      const text = out.text.endsWith('\n') ? out.text.slice(0, -1) : out.text;
      for (const line of text.split('\n')) lines.push(`${GUTTER}${OUTPUT_BAR}${line}`);
      if (out.truncated) lines.push(`${GUTTER}${OUTPUT_BAR}… (output truncated)`);
      const fold = openCommands.get(commandKey(p));
      if (fold) fold.end = lines.length - 1;
      continue;
    }
    lines.push(`${clock(event.createdAt)} ${LABELS[event.severity].padEnd(6)} ${event.title}`);
    if (event.type === EventType.CHECKPOINT_CREATED) {
      rewindPoints.push({ line: lines.length - 1, step: (p as unknown as Payload<'checkpoint_created'>).step });
    }
    if (event.type === EventType.RUN_REWOUND) {
      // The checkpoints after the step it went back to are gone.
      const step = (p as unknown as Payload<'run_rewound'>).step;
      rewindPoints.splice(0, rewindPoints.length, ...rewindPoints.filter((r) => r.step <= step));
    }
    if (event.type === EventType.COMMAND_STARTED) {
      openCommands.set(commandKey(p), { start: lines.length - 1, end: lines.length - 1 });
    }
    for (const detail of eventDetails(event)) lines.push(`${GUTTER}${detail}`);
    if (event.type === EventType.COMMAND_COMPLETED || event.type === EventType.COMMAND_FAILED) {
      const key = commandKey(p);
      const fold = openCommands.get(key);
      if (fold) {
        fold.end = lines.length - 1;
        if (fold.end > fold.start) folds.push(fold);
        openCommands.delete(key);
      }
    }
  }
  for (const fold of openCommands.values()) if (fold.end > fold.start) folds.push(fold);
  if (streaming) {
    for (const line of streaming.split('\n')) lines.push(`${GUTTER}${STREAM_BAR}${line}`);
  }
  return { text: lines.join('\n') + '\n', folds: folds.sort((a, b) => a.start - b.start), rewindPoints };
}
