import { once } from 'node:events';
import { Worker as Thread } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/core/backend.js';
import { LeaseTable, LeaseTableReader } from '../../src/core/leases/lease-table.js';

const delivery = (id: string, attempt = 1, workerId = 'host:123:abcd1234'): Delivery => ({ id, workerId, attempt });
const deliveries = (reader: LeaseTableReader): Delivery[] => reader.entries().map((entry) => entry.delivery);

describe('lease table', () => {
  it('the reader sees what the writer set, and not what it deleted', () => {
    const table = new LeaseTable(4);
    const reader = new LeaseTableReader(table.buffer);
    const a = delivery('5f1c9a60-0f0e-4c43-9a3e-2d7a0b6c1e11');
    const b = delivery('tâche-ünïcode-✓', 3, 'wörker');
    expect(table.set(a)).toBe(true);
    expect(table.set(b)).toBe(true);
    expect(deliveries(reader)).toEqual([a, b]);
    expect(table.delete(a.id)).toBe(true);
    expect(table.delete(a.id)).toBe(false);
    expect(deliveries(reader)).toEqual([b]);
    expect(table.size).toBe(1);
    table.clear();
    expect(reader.entries()).toEqual([]);
  });

  it('setting an id again rewrites its own slot', () => {
    const table = new LeaseTable(2);
    const reader = new LeaseTableReader(table.buffer);
    table.set(delivery('a', 1));
    table.set(delivery('a', 2));
    expect(table.size).toBe(1);
    expect(deliveries(reader)).toEqual([delivery('a', 2)]);
  });

  it('reuses a freed slot, under a new generation', () => {
    const table = new LeaseTable(3);
    const reader = new LeaseTableReader(table.buffer);
    table.set(delivery('a'));
    table.set(delivery('b'));
    const [before] = reader.entries();
    table.delete('a');
    table.set(delivery('c'));
    const [after] = reader.entries();
    expect(after).toMatchObject({ slot: before!.slot, delivery: delivery('c') });
    expect(after!.generation).not.toBe(before!.generation);
  });

  it('refuses a delivery once every slot is taken, and takes one again after a delete', () => {
    const table = new LeaseTable(2);
    expect(table.set(delivery('a'))).toBe(true);
    expect(table.set(delivery('b'))).toBe(true);
    expect(table.set(delivery('c'))).toBe(false);
    table.delete('a');
    expect(table.set(delivery('c'))).toBe(true);
    expect(deliveries(new LeaseTableReader(table.buffer)).map((d) => d.id)).toEqual(['c', 'b']);
  });

  it('refuses ids longer than a slot holds, counting UTF-8 bytes', () => {
    const table = new LeaseTable(4, 64); // 48 bytes for id and workerId
    const reader = new LeaseTableReader(table.buffer);
    expect(table.set(delivery('x'.repeat(300)))).toBe(false);
    expect(table.set(delivery('€'.repeat(15), 1, 'w23'))).toBe(true); // 45 + 3 bytes
    expect(table.set(delivery('€'.repeat(16), 1, 'w'))).toBe(false); // 48 + 1 bytes
    expect(deliveries(reader)).toEqual([delivery('€'.repeat(15), 1, 'w23')]);
  });

  it('a delivery that no longer fits its own slot leaves it', () => {
    const table = new LeaseTable(2, 64);
    table.set(delivery('a', 1, 'w'));
    expect(table.set(delivery('a', 2, 'w'.repeat(60)))).toBe(false);
    expect(table.has('a')).toBe(false);
    expect(new LeaseTableReader(table.buffer).entries()).toEqual([]);
  });

  it('reads again when the slot is rewritten during a read, and never returns a torn delivery', () => {
    const table = new LeaseTable(1);
    table.set(delivery('first-id', 1, 'worker-one'));
    let reads = 0;
    class InterleavedReader extends LeaseTableReader {
      protected override readFields(slot: number): Delivery | undefined {
        const fields = super.readFields(slot);
        // The main thread rewrites the slot between this read and the generation check.
        if (++reads === 1) {
          table.delete('first-id');
          table.set(delivery('second', 7, 'w2'));
        }
        return fields;
      }
    }
    const reader = new InterleavedReader(table.buffer);
    expect(reader.read(0)?.delivery).toEqual(delivery('second', 7, 'w2'));
    expect(reads).toBe(2);
  });

  it('skips a slot the writer is in the middle of (odd generation) and reads it once written', () => {
    const table = new LeaseTable(2);
    table.set(delivery('a'));
    table.set(delivery('b'));
    const reader = new LeaseTableReader(table.buffer);
    // slot 0's generation: the first Int32 after the 16-byte header
    const ints = new Int32Array(table.buffer);
    const generation = Atomics.load(ints, 4);
    Atomics.store(ints, 4, generation + 1);
    expect(deliveries(reader)).toEqual([delivery('b')]);
    Atomics.store(ints, 4, generation + 2);
    expect(deliveries(reader)).toEqual([delivery('a'), delivery('b')]);
  });

  it('does not decode an unchanged slot again', () => {
    const table = new LeaseTable(1);
    table.set(delivery('a'));
    const reader = new LeaseTableReader(table.buffer);
    expect(reader.read(0)).toBe(reader.read(0));
  });

  it('carries the loop beat', () => {
    const table = new LeaseTable(1);
    table.beat(1_700_000_000_123);
    expect(new LeaseTableReader(table.buffer).lastBeat()).toBe(1_700_000_000_123);
  });

  it('a table of no slots refuses everything', () => {
    const table = new LeaseTable(0);
    expect(table.set(delivery('a'))).toBe(false);
    expect(new LeaseTableReader(table.buffer).entries()).toEqual([]);
  });

  it('a reader on another thread than the writer never sees a torn delivery', async () => {
    // The writer runs in a thread of its own and rewrites two slots as fast as it can, each
    // time with an id, workerId and attempt of one length n: a torn read would mix lengths.
    const flags = new Int32Array(new SharedArrayBuffer(8)); // [0] go, [1] done
    const tableUrl = new URL('../../src/core/leases/lease-table.ts', import.meta.url).href;
    const writer = new Thread(
      `
      const { workerData, parentPort } = require('node:worker_threads');
      import('tsx/esm/api').then((tsx) => { tsx.register(); return import(workerData.tableUrl); }).then(({ LeaseTable }) => {
        const flags = new Int32Array(workerData.flags);
        const table = new LeaseTable(2);
        parentPort.postMessage(table.buffer);
        while (Atomics.load(flags, 0) === 0) {}
        for (let i = 0; i < 200000; i++) {
          const n = (i % 60) + 1;
          const id = (i % 2 ? 'a' : 'b') + 'x'.repeat(n);
          if (i % 7 === 0) table.delete(id);
          else table.set({ id, workerId: 'w'.repeat(n), attempt: n });
        }
        Atomics.store(flags, 1, 1);
      });
      `,
      { eval: true, workerData: { flags: flags.buffer, tableUrl } },
    );
    const [buffer] = (await once(writer, 'message')) as [SharedArrayBuffer];
    const reader = new LeaseTableReader(buffer);
    let reads = 0;
    const torn: Delivery[] = [];
    Atomics.store(flags, 0, 1);
    while (Atomics.load(flags, 1) === 0) {
      for (const { delivery } of reader.entries()) {
        reads++;
        const n = delivery.attempt;
        if (delivery.id.length !== n + 1 || delivery.workerId !== 'w'.repeat(n)) torn.push(delivery);
      }
    }
    await writer.terminate();
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(0);
  });
});
