/**
 * The panels' JSON, shared by every live stream of one mount: five open
 * tabs read the broker as often as one (each read is kept for just under a
 * refresh period). On Redis a task list or an overview scans the kept tasks,
 * so this is what keeps the dashboard's cost flat in the number of tabs.
 */
export class PanelCache {
  private readonly entries = new Map<string, { at: number; json: Promise<string | undefined> }>();

  constructor(private readonly maxAgeMs: number) {}

  /** The panel's JSON from a read at most maxAgeMs old, else from a new read (undefined when it failed). */
  read(key: string, reader: () => Promise<string | undefined>): Promise<string | undefined> {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry && now - entry.at < this.maxAgeMs) return entry.json;
    const json = reader();
    this.entries.set(key, { at: now, json });
    if (this.entries.size > 1000) this.dropOld(now);
    return json;
  }

  private dropOld(now: number): void {
    for (const [key, entry] of this.entries) if (now - entry.at >= this.maxAgeMs) this.entries.delete(key);
  }
}
