// The live chart page: points from /ws/two_url/ plotted as they arrive, with Chart.js from the npm package.
import { CategoryScale, Chart, LinearScale, LineController, LineElement, PointElement } from 'chart.js';
import { socketUrl } from './socket-url.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale);

export function wireLiveChart(canvas: HTMLCanvasElement, count: HTMLElement | null): void {
  const labels: number[] = [];
  const values: number[] = [];
  const chart = new Chart(canvas, {
    type: 'line',
    data: { labels, datasets: [{ label: 'value', data: values, borderColor: '#0d6efd', tension: 0.2 }] },
    // No animation: each point is drawn as it comes (and tests see it at once).
    options: { animation: false, responsive: true, scales: { y: { min: 0, max: 100 } } },
  });
  const socket = new WebSocket(socketUrl('/ws/two_url/'));
  socket.addEventListener('message', (event) => {
    let data: unknown;
    try {
      data = (JSON.parse(String(event.data)) as { data?: unknown }).data;
    } catch {
      return;
    }
    if (typeof data !== 'number') return;
    labels.push(labels.length + 1);
    values.push(data);
    chart.update();
    canvas.dataset.points = String(values.length);
    if (count) count.textContent = String(values.length);
  });
}
