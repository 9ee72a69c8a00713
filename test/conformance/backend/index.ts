import type { BackendCapabilities } from '../../../src/index.js';
import { describeAging } from './aging.js';
import type { Broker, Setup } from '../seam.js';
import { describeWake } from './wake.js';
import { describeAdmin } from './admin.js';
import { describeClaim } from './claim.js';
import { describeClaimWait } from './claim-wait.js';
import { describeClose } from './close.js';
import { describeDeadLetters } from './dead-letters.js';
import { describeDebounce } from './debounce.js';
import { describeDeliveries } from './deliveries.js';
import { describeFlowControl } from './flow-control.js';
import { describeFollowUps } from './follow-ups.js';
import { describeIdempotency } from './idempotency.js';
import { describePriorities } from './priorities.js';
import { describeRateLimits } from './rate-limits.js';
import { describeRevoke } from './revoke.js';
import { describeStatusEvents } from './status-events.js';
import { describeStorage } from './storage.js';
import { describeTagFeeds } from './tag-feeds.js';
import { describeTransitions } from './transitions.js';

/** The backend-level cases: the Backend seam driven directly (`app.backend`), the optional features behind their capability. */
export function describeBackendCases(setup: Setup, broker: Broker): void {
  const has = (name: keyof BackendCapabilities) => async (): Promise<boolean> => broker.capabilities[name] === true;
  describeStorage(setup);
  describeClaim(setup);
  describeClaimWait(setup);
  describeTransitions(setup);
  describeDeliveries(setup);
  describeRevoke(setup);
  describeStatusEvents(setup);
  describeIdempotency(setup);
  describeDeadLetters(setup);
  describeClose(setup);
  describeFollowUps(setup);
  describeTagFeeds(setup);
  describeAdmin(setup);
  describePriorities(setup);
  describeFlowControl(setup, has('flowControl'));
  describeRateLimits(setup, has('rateLimits'));
  describeDebounce(setup, has('debounce'));
  describeAging(setup, has('aging'));
  describeWake(setup, has('wake'));
}
