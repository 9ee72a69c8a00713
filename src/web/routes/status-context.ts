import type { Errand } from '../../core/errand.js';
import type { StatusHub } from '../../status/status-hub.js';
import type { AccessPolicy } from '../core/access.js';
import type { Sessions } from '../sessions.js';

/** What the status routes of one mount share. */
export interface StatusContext {
  app: Errand;
  hub: StatusHub;
  access: AccessPolicy;
  sessions: Sessions;
  heartbeatMs: number;
  allowedOrigins: ReadonlySet<string>;
  log(error: unknown, message: string): void;
}
