import { describe, expect, it } from 'vitest';
import type { ConnectionChange, StatusMessage, TransportName } from '../../src/client/index.js';
import type { StartTransport, TransportContext } from '../../src/client/transport.js';
import { watchTaskWith, type WatchDependencies } from '../../src/client/watch-task.js';

const msg = (version: number, state: StatusMessage['state'] = 'PROGRESS'): StatusMessage => ({ state, version });
const tick = () => new Promise((r) => setTimeout(r, 5));

function fakes() {
  const started: Array<{ name: TransportName; context: TransportContext }> = [];
  const make =
    (name: TransportName): StartTransport =>
    (_url, context) => {
      started.push({ name, context });
      return { close: () => undefined };
    };
  const deps: WatchDependencies = {
    transports: { ws: make('ws'), sse: make('sse'), poll: make('poll') },
    setTimeout: (fn) => setTimeout(fn, 0),
    clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
  };
  return { deps, started, last: () => started.at(-1)!.context };
}

// What errand/react builds on: onConnection reports the transport and its state; afterVersion resumes a watch.
describe('watchTask connection reports and resume (fake transports)', () => {
  it('reports connecting, open (once, though polling opens on every answer), fallback and reconnects', async () => {
    const { deps, last } = fakes();
    const changes: ConnectionChange[] = [];
    const watch = watchTaskWith('t', { onUpdate: () => {}, onConnection: (c) => changes.push(c) }, deps);
    last().onEnd({ kind: 'lost' }); // ws cannot connect: sse at once
    last().onOpen();
    last().onEnd({ kind: 'lost' }); // sse worked, then dropped: retried after a backoff
    await tick();
    await tick();
    last().onEnd({ kind: 'lost' });
    await tick();
    last().onEnd({ kind: 'lost' });
    await tick();
    last().onEnd({ kind: 'lost' }); // three failed connects in a row: poll
    last().onOpen();
    last().onOpen();
    last().onStatus(msg(1, 'SUCCESS'));
    await watch.done;
    expect(changes.map((c) => `${c.state} ${c.transport}`)).toEqual([
      'connecting ws',
      'connecting sse',
      'open sse',
      'reconnecting sse',
      'connecting sse',
      'reconnecting sse',
      'connecting sse',
      'reconnecting sse',
      'connecting sse',
      'connecting poll',
      'open poll',
    ]);
  });

  it('afterVersion skips the versions the caller has already seen', async () => {
    const { deps, last } = fakes();
    const seen: number[] = [];
    const watch = watchTaskWith('t', { afterVersion: 3, onUpdate: (s) => seen.push(s.version) }, deps);
    expect(last().lastVersion()).toBe(3); // SSE sends it as Last-Event-ID, polling as If-None-Match
    last().onOpen();
    last().onStatus(msg(3));
    last().onStatus(msg(5, 'SUCCESS'));
    await expect(watch.done).resolves.toEqual(msg(5, 'SUCCESS'));
    expect(seen).toEqual([5]);
  });

  it('a throwing onConnection does not break the watch; closing from it stops before connecting', async () => {
    const { deps, started, last } = fakes();
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      const watch = watchTaskWith(
        't',
        {
          onUpdate: () => {},
          onConnection: () => {
            throw new Error('caller bug');
          },
        },
        deps,
      );
      last().onOpen();
      last().onStatus(msg(1, 'SUCCESS'));
      await expect(watch.done).resolves.toMatchObject({ state: 'SUCCESS' });
      await tick();
      expect(errors).toHaveLength(2);
    } finally {
      process.off('uncaughtException', onError);
    }

    const before = started.length;
    let close: () => void = () => {};
    const closing = watchTaskWith('u', { onUpdate: () => {}, onConnection: () => close() }, deps);
    close = closing.close;
    // The first report comes before close is assigned; the reconnect reports after the failure close it.
    last().onEnd({ kind: 'lost' });
    await expect(closing.done).rejects.toMatchObject({ code: 'closed' });
    expect(started.length).toBe(before + 1);
  });
});
