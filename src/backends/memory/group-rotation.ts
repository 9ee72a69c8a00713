import { Fifo } from './fifo.js';

/** What a claim says of the head of a group it is offered. */
export type Offer =
  /** leased: the group goes behind the others */
  | 'taken'
  /** stale or expired: dropped, the next one of the group is offered */
  | 'dropped'
  /** its limits are full: the group waits behind it for this claim */
  | 'blocked';

/**
 * Ready ids of one priority of one queue: groups round-robin, first in first
 * out within a group. The Map's insertion order is the rotation: a group that
 * gets a task, or starts waiting, goes to the end.
 */
export class GroupRotation {
  private readonly groups = new Map<string, Fifo<string>>();

  push(id: string, group: string): void {
    let ids = this.groups.get(group);
    if (!ids) this.groups.set(group, (ids = new Fifo()));
    ids.push(id);
  }

  /** Offers group heads in rotation order until `want` are taken or every group is empty or blocked; how many were taken. */
  take(want: number, offer: (id: string) => Offer): number {
    let taken = 0;
    // A Map iterator also visits entries set during the walk: a group moved to the end comes round again.
    for (const [group, ids] of this.groups) {
      while (taken < want) {
        const id = ids.peek();
        if (id === undefined) break;
        const answer = offer(id);
        if (answer === 'blocked') break;
        ids.shift();
        if (answer === 'dropped') continue;
        taken++;
        // a lone group (the usual '' group) keeps its place: no Map churn per task
        if (this.groups.size > 1) {
          this.groups.delete(group);
          if (ids.length > 0) this.groups.set(group, ids);
          break;
        }
      }
      if (ids.length === 0) this.groups.delete(group);
      if (taken >= want) break;
    }
    return taken;
  }
}
