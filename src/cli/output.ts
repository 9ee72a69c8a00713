import type { DeadLetter, TaskInfo } from '../core/types.js';

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
