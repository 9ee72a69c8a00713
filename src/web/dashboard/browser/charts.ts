import { depthDatasets } from './depth-series.js';
import type { History } from './types.js';

/** The part of Chart.js's API used here (loaded by its own script tag as the global `Chart`). */
interface ChartLike {
  data: { labels: string[]; datasets: Array<{ data: Array<number | null> }> };
  update(mode?: string): void;
}
type ChartConstructor = new (canvas: HTMLCanvasElement, config: unknown) => ChartLike;

const MINUTE = 60_000;

/** Throughput (succeeded / failed / retried per minute), failure rate and queue depth over the last hour, from app.admin.history(). */
export class Charts {
  private throughput?: ChartLike;
  private failure?: ChartLike;
  private depth?: ChartLike;

  constructor(
    private readonly throughputCanvas: HTMLCanvasElement,
    private readonly failureCanvas: HTMLCanvasElement,
    private readonly depthCanvas: HTMLCanvasElement,
  ) {}

  show(history: History): void {
    const Chart = (globalThis as { Chart?: ChartConstructor }).Chart;
    if (!Chart) return;
    const start = Math.floor(history.since / MINUTE) * MINUTE;
    const minutes = Array.from({ length: 61 }, (_, i) => start + i * MINUTE);
    const sums = new Map(minutes.map((m) => [m, { succeeded: 0, failed: 0, retried: 0 }]));
    for (const p of history.throughput) {
      const slot = sums.get(Math.floor(p.at / MINUTE) * MINUTE);
      if (!slot) continue;
      slot.succeeded += p.succeeded;
      slot.failed += p.failed;
      slot.retried += p.retried;
    }
    const labels = minutes.map((m) => new Date(m).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    const column = (key: 'succeeded' | 'failed' | 'retried'): number[] => minutes.map((m) => sums.get(m)![key]);
    const rate = minutes.map((m) => {
      const s = sums.get(m)!;
      const done = s.succeeded + s.failed;
      return done === 0 ? 0 : Math.round((1000 * s.failed) / done) / 10;
    });
    const throughputData = [column('succeeded'), column('failed'), column('retried')];
    this.throughput = draw(
      this.throughput,
      () => new Chart(this.throughputCanvas, barConfig(labels, throughputData)),
      labels,
      throughputData,
    );
    this.failure = draw(this.failure, () => new Chart(this.failureCanvas, lineConfig(labels, rate)), labels, [rate]);
    const depth = depthDatasets(history, minutes);
    if (this.depth) {
      this.depth.data.labels = labels;
      this.depth.data.datasets = depth;
      this.depth.update('none');
    } else {
      this.depth = new Chart(this.depthCanvas, depthConfig(labels, depth));
    }
    this.throughputCanvas.dataset.points = String(history.throughput.length);
    this.depthCanvas.dataset.queues = String(depth.length);
  }
}

function depthConfig(labels: string[], datasets: unknown[]): unknown {
  return {
    type: 'line',
    data: { labels, datasets },
    options: {
      ...common,
      plugins: { title: { display: true, text: 'Waiting tasks per queue' } },
      scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  };
}

function draw(chart: ChartLike | undefined, create: () => ChartLike, labels: string[], series: number[][]): ChartLike {
  if (!chart) return create();
  chart.data.labels = labels;
  series.forEach((data, i) => (chart.data.datasets[i]!.data = data));
  chart.update('none');
  return chart;
}

const common = { responsive: true, maintainAspectRatio: false, animation: false };

function barConfig(labels: string[], [succeeded, failed, retried]: number[][]): unknown {
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'succeeded', data: succeeded, backgroundColor: '#12b76a' },
        { label: 'failed', data: failed, backgroundColor: '#f04438' },
        { label: 'retried', data: retried, backgroundColor: '#f79009' },
      ],
    },
    options: {
      ...common,
      plugins: { title: { display: true, text: 'Tasks per minute' } },
      scales: {
        x: { stacked: true, ticks: { maxTicksLimit: 12 } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  };
}

function lineConfig(labels: string[], rate: number[]): unknown {
  return {
    type: 'line',
    data: { labels, datasets: [{ label: 'failure rate %', data: rate, borderColor: '#f04438', pointRadius: 0, tension: 0.2 }] },
    options: {
      ...common,
      plugins: { title: { display: true, text: 'Failure rate per minute (%)' } },
      scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true, suggestedMax: 10 } },
    },
  };
}
