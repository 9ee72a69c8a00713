import { Fifo } from './fifo.js';

/** Ready ids of one queue: the highest priority first, first in first out within one. */
export class PriorityLanes {
  private readonly lanes = new Map<number, Fifo<string>>();
  /** Lane priorities, highest first. */
  private order: number[] = [];

  get length(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.length;
    return n;
  }

  push(id: string, priority: number): void {
    let lane = this.lanes.get(priority);
    if (!lane) {
      this.lanes.set(priority, (lane = new Fifo()));
      this.order = [...this.lanes.keys()].sort((a, b) => b - a);
    }
    lane.push(id);
  }

  shift(): string | undefined {
    for (const priority of this.order) {
      const id = this.lanes.get(priority)!.shift();
      if (id !== undefined) return id;
    }
    return undefined;
  }
}
