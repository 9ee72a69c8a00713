import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { errandTracing } from '../../src/tracing/index.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

describe('errand/tracing', () => {
  let app: Errand | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    exporter.reset();
  });

  it('one trace from the request through the enqueue to every attempt, retries and the handler’s own spans included', async () => {
    app = createApp({ broker: 'memory://', logger: false });
    const stop = errandTracing(app, { tracer });
    const flaky = app.task(
      'tr.flaky',
      async (ctx) => {
        tracer.startSpan('inside the handler').end();
        if (ctx.attempt < 2) throw new RangeError('first try fails');
        return 'ok';
      },
      { retry: { max: 3, backoff: { base: 1, cap: 1 } } },
    );
    const worker = app.worker({ handleSignals: false, claimWaitMs: 20 });
    await worker.start();
    const request = tracer.startSpan('POST /form/');
    const r = await context.with(trace.setSpan(context.active(), request), () => flaky.delay());
    request.end();
    expect(await r.get({ timeout: 5000 })).toBe('ok');
    stop();
    const spans = exporter.getFinishedSpans();
    const traceId = request.spanContext().traceId;
    expect(spans.every((s) => s.spanContext().traceId === traceId)).toBe(true);
    const send = spans.find((s) => s.name === 'send default')!;
    expect(send.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'errand',
      'messaging.destination.name': 'default',
      'messaging.message.id': r.id,
    });
    const attempts = spans.filter((s) => s.name === 'process default');
    expect(attempts).toHaveLength(2);
    for (const a of attempts) expect(a.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(attempts.map((a) => a.attributes['messaging.message.delivery_count']).sort()).toEqual([1, 2]);
    const failed = attempts.find((a) => a.attributes['messaging.message.delivery_count'] === 1)!;
    expect(failed.status.code).toBe(2); // ERROR
    expect(failed.events.some((e) => e.name === 'exception')).toBe(true);
    const inner = spans.filter((s) => s.name === 'inside the handler');
    expect(inner).toHaveLength(2);
    expect(inner.map((s) => s.parentSpanContext?.spanId).sort()).toEqual(attempts.map((a) => a.spanContext().spanId).sort());
  });

  it('the trace context goes into the dead letter, and a task enqueued outside any span starts its own trace', async () => {
    app = createApp({ broker: 'memory://', logger: false });
    errandTracing(app, { tracer });
    const worker = app.worker({ handleSignals: false, claimWaitMs: 20 });
    await worker.start();
    const r = await app.sendTask('tr.unknown', []);
    await r.get({ timeout: 5000 }).catch(() => undefined);
    const [letter] = await app.deadLetters(1);
    const send = exporter.getFinishedSpans().find((s) => s.name === 'send default')!;
    expect(send.parentSpanContext).toBeUndefined();
    expect(letter!.trace).toBe(`00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`);
  });
});
