import { GroupRotation, type Offer } from './group-rotation.js';

/** Ready ids of one queue: the highest priority first, groups round-robin within one (see GroupRotation). */
export class PriorityLanes {
  private readonly lanes = new Map<number, GroupRotation>();
  /** Lane priorities, highest first. */
  private order: number[] = [];

  push(id: string, priority: number, group = ''): void {
    let lane = this.lanes.get(priority);
    if (!lane) {
      this.lanes.set(priority, (lane = new GroupRotation()));
      this.order = [...this.lanes.keys()].sort((a, b) => b - a);
    }
    lane.push(id, group);
  }

  /** Offers ids in claim order until `want` are taken (a blocked group holds up only itself); how many were. */
  take(want: number, offer: (id: string) => Offer): number {
    let taken = 0;
    for (const priority of this.order) {
      if (taken >= want) break;
      taken += this.lanes.get(priority)!.take(want - taken, offer);
    }
    return taken;
  }
}
