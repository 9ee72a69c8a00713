import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { ClaimedTask, NewTask } from '../core/backend.js';
import type { Errand } from '../core/errand.js';
import type { AttemptEnd } from '../core/instrumentation.js';
import { describeError } from '../core/outcome.js';
import { formatTraceContext, parentContext } from './trace-context.js';

export interface ErrandTracingOptions {
  /** The tracer to use (default: the global tracer provider's 'errand' tracer). */
  tracer?: Tracer;
}

const SYSTEM = 'errand';

/**
 * OpenTelemetry spans for an app (@opentelemetry/api only; bring your own
 * SDK), after the messaging semantic conventions: a PRODUCER span "send
 * <queue>" around each enqueue, in the caller's context (an HTTP request's
 * span becomes its parent), whose context is stored with the task; and a
 * CONSUMER span "process <queue>" around each attempt, a child of that
 * producer span on whatever worker and retry, with the handler running
 * inside it (its own spans nest under it). Returns the function that stops it.
 */
export function errandTracing(app: Errand, options: ErrandTracingOptions = {}): () => void {
  const tracer = options.tracer ?? trace.getTracer('errand');
  return app.instrument({
    enqueue(task: Readonly<NewTask>) {
      const span = tracer.startSpan(`send ${task.queue}`, {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': SYSTEM,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          'messaging.destination.name': task.queue,
          'messaging.message.id': task.id,
          'errand.task.name': task.name,
        },
      });
      return {
        trace: formatTraceContext(span.spanContext()),
        end: (error) => endSpan(span, error),
      };
    },
    async attempt(task: Readonly<ClaimedTask>, run: () => Promise<AttemptEnd>): Promise<AttemptEnd> {
      const span = tracer.startSpan(
        `process ${task.queue}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': SYSTEM,
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'process',
            'messaging.destination.name': task.queue,
            'messaging.message.id': task.id,
            'messaging.message.delivery_count': task.attempt,
            'errand.task.name': task.name,
            'errand.task.retries': task.retries,
          },
        },
        parentContext(task.trace),
      );
      try {
        const end = await context.with(trace.setSpan(parentContext(task.trace), span), run);
        span.setAttribute('errand.attempt.result', end.result);
        if (end.result === 'failure' || end.result === 'dead_letter' || end.result === 'retry') {
          endSpan(span, end.error ?? new Error(end.result));
        } else span.end();
        return end;
      } catch (error) {
        endSpan(span, error);
        throw error;
      }
    },
  });
}

function endSpan(span: Span, error: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error).message });
  }
  span.end();
}
