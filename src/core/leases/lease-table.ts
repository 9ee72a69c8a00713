// The worker's leased deliveries in shared memory: the main thread writes a
// slot in add()/remove(), synchronously and without a message, and the lease
// thread reads the table at each renewal. A message per claim batch took
// 7–14 % of a worker's main thread at concurrency 1 (docs/benchmarks.md).
//
// Each slot is a seqlock with one writer (the main thread) and one reader
// (the lease thread): the writer makes the slot's generation odd, writes the
// fields and makes it even again; the reader keeps what it read only if the
// generation was even before and unchanged after.
//
// Layout: a header (the worker loop's last beat as a BigInt64 of epoch ms,
// the capacity and the slot size as Int32s), then `capacity` slots of
// `slotBytes`: generation, attempt, id bytes (FREE: an empty slot), workerId
// bytes as Int32s, then the id and workerId in UTF-8.
import type { Delivery } from '../backend.js';

export const DEFAULT_SLOT_BYTES = 256;

const HEADER_BYTES = 16;
const BEAT = 0; // in BigInt64 units
const CAPACITY = 2; // in Int32 units
const SLOT_BYTES = 3;

const FIELD_BYTES = 16;
const GENERATION = 0;
const ATTEMPT = 1;
const ID_BYTES = 2;
const WORKER_ID_BYTES = 3;
const FREE = -1;

/** A reader that saw the slot change this many times in a row leaves it to the next renewal. */
const READ_TRIES = 4;

/** A slot's Int32 fields start at this index of the buffer's Int32 view. */
const fieldsAt = (slot: number, slotBytes: number): number => (HEADER_BYTES + slot * slotBytes) / 4;

/** Written by the worker's main thread; `buffer` goes to the lease thread. */
export class LeaseTable {
  readonly buffer: SharedArrayBuffer;
  private readonly ints: Int32Array;
  private readonly bytes: Buffer;
  private readonly beats: BigInt64Array;
  private readonly slotOf = new Map<string, number>();
  /** Free slots, the lowest last: reused first, so the thread scans a dense prefix. */
  private readonly free: number[] = [];
  /** Bytes a slot has for id and workerId together. */
  private readonly room: number;

  constructor(
    readonly capacity: number,
    private readonly slotBytes = DEFAULT_SLOT_BYTES,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`lease table capacity must be a whole number >= 0, got ${capacity}`);
    // Int32 fields need 4-byte alignment; the id needs a byte or more.
    if (!Number.isInteger(slotBytes) || slotBytes % 8 !== 0 || slotBytes <= FIELD_BYTES) {
      throw new RangeError(`lease table slots must be a multiple of 8 bytes above ${FIELD_BYTES}, got ${slotBytes}`);
    }
    this.buffer = new SharedArrayBuffer(HEADER_BYTES + capacity * slotBytes);
    this.ints = new Int32Array(this.buffer);
    this.bytes = Buffer.from(this.buffer);
    this.beats = new BigInt64Array(this.buffer, 0, 1);
    this.room = slotBytes - FIELD_BYTES;
    this.ints[CAPACITY] = capacity;
    this.ints[SLOT_BYTES] = slotBytes;
    for (let slot = capacity - 1; slot >= 0; slot--) {
      this.ints[fieldsAt(slot, slotBytes) + ID_BYTES] = FREE;
      this.free.push(slot);
    }
    this.beat();
  }

  /** How many deliveries the table holds. */
  get size(): number {
    return this.slotOf.size;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /**
   * Writes the delivery into a slot (its own again if its id has one); false
   * when the table is full or its ids do not fit in a slot: the caller posts
   * it to the thread instead.
   */
  set(delivery: Delivery): boolean {
    if (!this.fits(delivery)) {
      this.delete(delivery.id);
      return false;
    }
    let slot = this.slotOf.get(delivery.id);
    if (slot === undefined) {
      slot = this.free.pop();
      if (slot === undefined) return false;
      this.slotOf.set(delivery.id, slot);
    }
    const at = fieldsAt(slot, this.slotBytes);
    this.begin(at);
    const textAt = at * 4 + FIELD_BYTES;
    const idBytes = this.bytes.write(delivery.id, textAt, this.room, 'utf8');
    const workerIdBytes = this.bytes.write(delivery.workerId, textAt + idBytes, this.room - idBytes, 'utf8');
    this.ints[at + ATTEMPT] = delivery.attempt;
    this.ints[at + ID_BYTES] = idBytes;
    this.ints[at + WORKER_ID_BYTES] = workerIdBytes;
    this.end(at);
    return true;
  }

  /** Frees the delivery's slot; false if it had none. */
  delete(id: string): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    const at = fieldsAt(slot, this.slotBytes);
    this.begin(at);
    this.ints[at + ID_BYTES] = FREE;
    this.end(at);
    this.free.push(slot);
    return true;
  }

  clear(): void {
    for (const id of [...this.slotOf.keys()]) this.delete(id);
  }

  /** The worker's event loop turned at `now`: the thread renews only while it hears this. */
  beat(now = Date.now()): void {
    Atomics.store(this.beats, BEAT, BigInt(now));
  }

  private fits({ id, workerId }: Delivery): boolean {
    // A UTF-16 unit is at most 3 UTF-8 bytes: most ids need no count.
    if ((id.length + workerId.length) * 3 <= this.room) return true;
    return Buffer.byteLength(id) + Buffer.byteLength(workerId) <= this.room;
  }

  /** Odd generation: the slot is being written. `| 0` wraps at 2³¹ and keeps the parity. */
  private begin(at: number): void {
    Atomics.store(this.ints, at + GENERATION, (this.ints[at + GENERATION]! + 1) | 0);
  }

  private end(at: number): void {
    Atomics.store(this.ints, at + GENERATION, (this.ints[at + GENERATION]! + 1) | 0);
  }
}

/** A delivery as read from its slot. */
export interface LeaseTableEntry {
  slot: number;
  /** The slot's generation when read: a later write changes it. */
  generation: number;
  delivery: Delivery;
}

/** Read by the lease thread. */
export class LeaseTableReader {
  private readonly ints: Int32Array;
  private readonly bytes: Buffer;
  private readonly beats: BigInt64Array;
  readonly capacity: number;
  private readonly slotBytes: number;
  /** The last entry read per slot: an unchanged generation means unchanged fields, so no decoding. */
  private readonly cache: Array<LeaseTableEntry | undefined> = [];

  constructor(buffer: SharedArrayBuffer) {
    this.ints = new Int32Array(buffer);
    this.bytes = Buffer.from(buffer);
    this.beats = new BigInt64Array(buffer, 0, 1);
    this.capacity = this.ints[CAPACITY]!;
    this.slotBytes = this.ints[SLOT_BYTES]!;
  }

  /** When the worker's event loop last turned (epoch ms). */
  lastBeat(): number {
    return Number(Atomics.load(this.beats, BEAT));
  }

  /** The deliveries in the table; one being written is left out (the next renewal reads it). */
  entries(): LeaseTableEntry[] {
    const entries: LeaseTableEntry[] = [];
    for (let slot = 0; slot < this.capacity; slot++) {
      const entry = this.read(slot);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /** The slot's delivery; undefined if the slot is free or being written. */
  read(slot: number): LeaseTableEntry | undefined {
    const generationAt = fieldsAt(slot, this.slotBytes) + GENERATION;
    for (let tries = 0; tries < READ_TRIES; tries++) {
      const generation = Atomics.load(this.ints, generationAt);
      if ((generation & 1) !== 0) return undefined;
      const cached = this.cache[slot];
      if (cached?.generation === generation) return cached;
      const delivery = this.readFields(slot);
      // written meanwhile: what was read may be torn
      if (Atomics.load(this.ints, generationAt) !== generation) continue;
      const entry = delivery && { slot, generation, delivery };
      this.cache[slot] = entry;
      return entry;
    }
    return undefined;
  }

  /** The slot's fields as they are now: torn if the main thread writes them meanwhile (read() checks). */
  protected readFields(slot: number): Delivery | undefined {
    const at = fieldsAt(slot, this.slotBytes);
    const idBytes = this.ints[at + ID_BYTES]!;
    const workerIdBytes = this.ints[at + WORKER_ID_BYTES]!;
    // FREE, or lengths torn into nonsense
    if (idBytes < 0 || workerIdBytes < 0 || idBytes + workerIdBytes > this.slotBytes - FIELD_BYTES) return undefined;
    const textAt = at * 4 + FIELD_BYTES;
    return {
      id: this.bytes.toString('utf8', textAt, textAt + idBytes),
      workerId: this.bytes.toString('utf8', textAt + idBytes, textAt + idBytes + workerIdBytes),
      attempt: this.ints[at + ATTEMPT]!,
    };
  }
}
