import type { DeadLetter, TaskInfo } from '../core/types.js';
import type { TaskPage } from '../core/admin/admin-backend.js';
import type { Overview, ScheduleInfo, WorkerInfo } from '../core/admin/admin-types.js';

/** How read commands print: JSON (--json) for scripts, or lines for people. */
export interface Output {
  json: boolean;
  write(line: string): void;
}

export const stdout = (json: boolean): Output => ({ json, write: (line) => process.stdout.write(`${line}\n`) });

export function printInfo(out: Output, info: TaskInfo): void {
  if (out.json) return out.write(JSON.stringify(info));
  const parts = [`${info.id}  ${info.name}  ${info.state}  v${info.version}  attempts ${info.attempts}`];
  if (info.progress)
    parts.push(`progress ${info.progress.current}${info.progress.total === undefined ? '' : `/${info.progress.total}`}`);
  if (info.error) parts.push(`${info.error.type}: ${info.error.message}`);
  if (info.state === 'SUCCESS') parts.push(`result ${truncate(JSON.stringify(info.result ?? null), 200)}`);
  out.write(parts.join('  '));
}

export function printDeadLetters(out: Output, letters: DeadLetter[]): void {
  if (out.json) return out.write(JSON.stringify(letters));
  if (letters.length === 0) return out.write('no dead letters');
  for (const letter of letters) {
    out.write(
      `${new Date(letter.at).toISOString()}  ${letter.id}  ${letter.name || '?'}  ${letter.queue}  ${letter.error.type}: ${truncate(letter.error.message, 120)}`,
    );
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface InspectView {
  overview: Overview;
  workers: WorkerInfo[];
  schedules: ScheduleInfo[];
  deadLetters: DeadLetter[];
  now: number;
}

export function printInspect(out: Output, view: InspectView): void {
  if (out.json) {
    const { overview, workers, schedules, deadLetters } = view;
    return out.write(JSON.stringify({ ...overview, workers, schedules, recentDeadLetters: deadLetters }));
  }
  const { overview, workers, schedules, now } = view;
  out.write('queues:');
  if (overview.queues.length === 0) out.write('  (none)');
  for (const q of overview.queues) {
    const age = q.oldestReadyAt === undefined ? '' : `  oldest ${seconds(now - q.oldestReadyAt)}`;
    out.write(
      `  ${q.queue}  ready ${q.ready}  scheduled ${q.scheduled}  running ${q.running}${q.paused ? '  PAUSED' : ''}${age}`,
    );
  }
  out.write(
    `states: ${Object.entries(overview.states)
      .map(([s, n]) => `${s} ${n}`)
      .join('  ')}`,
  );
  out.write(`workers: ${workers.length}`);
  for (const w of workers) {
    out.write(
      `  ${w.id}  ${w.host}:${w.pid}  queues ${w.queues.join(',')}  running ${w.runningCount}/${w.concurrency}  heartbeat ${seconds(now - w.heartbeatAt)} ago${w.beat ? '  beat' : ''}`,
    );
  }
  if (schedules.length > 0) out.write('schedules:');
  for (const s of schedules) out.write(`  ${s.name}  ${s.task}  ${s.spec}  next ${new Date(s.nextRunAt).toISOString()}`);
  out.write(`dead letters: ${overview.deadLetters}`);
}

export function printTaskPage(out: Output, page: TaskPage): void {
  if (out.json) return out.write(JSON.stringify(page));
  if (page.tasks.length === 0) out.write('no tasks');
  for (const info of page.tasks) {
    out.write(
      `${new Date(info.enqueuedAt).toISOString()}  ${info.id}  ${info.name}  ${info.queue}  ${info.state}  attempts ${info.attempts}`,
    );
  }
  if (page.next !== undefined) out.write(`more: --cursor ${page.next}`);
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}
