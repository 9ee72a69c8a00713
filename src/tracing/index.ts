// errand/tracing: OpenTelemetry spans for enqueues and attempts (@opentelemetry/api, an optional peer dependency).
export { errandTracing, type ErrandTracingOptions } from './errand-tracing.js';
export { formatTraceContext, parentContext } from './trace-context.js';
