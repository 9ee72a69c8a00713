import type { Broker, Setup } from '../seam.js';
import { describeBadInput } from './bad-input.js';
import { describeBulkEnqueue } from './bulk-enqueue.js';
import { describeCountdown } from './countdown.js';
import { describeEnqueue } from './enqueue.js';
import { describeIdempotency } from './idempotency.js';
import { describeLeases } from './leases.js';
import { describePickup } from './pickup.js';
import { describeSeveralProcesses } from './processes.js';
import { describeResultExpiry } from './result-expiry.js';
import { describeRetries } from './retries.js';
import { describeRevoke } from './revoke.js';
import { describeStatusEvents } from './status-events.js';
import { describeTagFeeds } from './tag-feeds.js';
import { describeTimeLimits } from './time-limits.js';

/** The engine-level cases: through createApp, tasks and workers (and worker processes where the broker is shared). */
export function describeEngineCases(setup: Setup, broker: Broker): void {
  describeEnqueue(setup);
  describeStatusEvents(setup);
  describeCountdown(setup);
  describeRetries(setup);
  describeTimeLimits(setup);
  describeRevoke(setup);
  describeIdempotency(setup);
  describeBulkEnqueue(setup);
  describeResultExpiry(setup);
  describeBadInput(setup);
  describeLeases(setup);
  describeTagFeeds(setup);
  describePickup(setup);
  describeSeveralProcesses(setup, broker);
}
