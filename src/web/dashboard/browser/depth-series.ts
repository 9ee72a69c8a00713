import type { History } from './types.js';

const COLORS = ['#2563eb', '#7a5af8', '#0e9384', '#dd2590', '#f79009', '#667085', '#12b76a', '#f04438'];
const MINUTE = 60_000;

/** Waiting tasks per queue per minute (the last sample of each minute; gaps where none), one line per queue. */
export function depthDatasets(
  history: History,
  minutes: number[],
): Array<{ label: string; data: Array<number | null>; borderColor: string }> {
  const byQueue = new Map<string, Map<number, number>>();
  for (const p of [...history.depth].sort((a, b) => a.at - b.at)) {
    let samples = byQueue.get(p.queue);
    if (!samples) byQueue.set(p.queue, (samples = new Map()));
    samples.set(Math.floor(p.at / MINUTE) * MINUTE, p.waiting);
  }
  return [...byQueue.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .slice(0, COLORS.length)
    .map(([queue, samples], i) => ({
      label: queue,
      data: minutes.map((m) => samples.get(m) ?? null),
      borderColor: COLORS[i]!,
      pointRadius: 2,
      spanGaps: true,
    }));
}
