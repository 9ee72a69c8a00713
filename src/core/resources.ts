/**
 * A hook for leak checks: workers and broker connections report when they
 * open and close, to a tracker a test harness installs (errand's own suite:
 * test/support/leak-check.ts). Without one, reporting is a single property
 * read. The tracker lives on globalThis so that every copy of this module
 * in a process (src and dist, say) reports to the same one.
 */
export interface ResourceTracker {
  /** `resource` is open; `label` says what it is ('worker host:1:ab12', 'redis backend …'). */
  opened(resource: object, label: string): void;
  closed(resource: object): void;
}

const SLOT = Symbol.for('errand.resourceTracker');

type Slot = { [SLOT]?: ResourceTracker };

/** Installs (or, with undefined, removes) the process's tracker. */
export function setResourceTracker(tracker: ResourceTracker | undefined): void {
  (globalThis as Slot)[SLOT] = tracker;
}

export function trackOpened(resource: object, label: string): void {
  (globalThis as Slot)[SLOT]?.opened(resource, label);
}

export function trackClosed(resource: object): void {
  (globalThis as Slot)[SLOT]?.closed(resource);
}
