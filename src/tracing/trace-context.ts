import { ROOT_CONTEXT, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * W3C trace context of a span, as stored with a task: "traceparent" or
 * "traceparent tracestate". Written directly from the span context, so no
 * global propagator needs to be registered.
 */
export function formatTraceContext(span: SpanContext): string | undefined {
  if (!trace.isSpanContextValid(span)) return undefined;
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  const parent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const state = span.traceState?.serialize();
  return state ? `${parent} ${state}` : parent;
}

/** The remote parent context a stored trace context names; ROOT_CONTEXT when there is none or it is malformed. */
export function parentContext(stored: string | undefined): Context {
  if (stored === undefined) return ROOT_CONTEXT;
  const space = stored.indexOf(' ');
  const match = TRACEPARENT.exec(space === -1 ? stored : stored.slice(0, space));
  if (!match) return ROOT_CONTEXT;
  const spanContext: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (!trace.isSpanContextValid(spanContext)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}
