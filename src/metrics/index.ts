// errand/metrics: Prometheus metrics (prom-client, an optional peer dependency) of an errand app's process.
export { errandMetrics, type ErrandMetrics, type ErrandMetricsOptions } from './errand-metrics.js';
export { serveMetrics, type MetricsServer } from './metrics-server.js';
