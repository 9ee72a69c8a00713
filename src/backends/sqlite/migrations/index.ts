import { INIT_SQL } from './001-init.js';
import { TAGS_FOLLOW_UPS_SQL } from './002-tags-follow-ups.js';
import { TRACE_SQL } from './003-trace.js';
import { ADMIN_SQL } from './004-admin.js';
import { RATE_LIMITS_SQL } from './005-rate-limits.js';
import { DEBOUNCE_AGING_SQL } from './006-debounce-aging.js';

/** Applied in order; a migration's number becomes PRAGMA user_version. Never edit a shipped one: add the next. */
export const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  { version: 1, sql: INIT_SQL },
  { version: 2, sql: TAGS_FOLLOW_UPS_SQL },
  { version: 3, sql: TRACE_SQL },
  { version: 4, sql: ADMIN_SQL },
  { version: 5, sql: RATE_LIMITS_SQL },
  { version: 6, sql: DEBOUNCE_AGING_SQL },
];
