import { INIT_SQL } from './001-init.js';

/** Applied in order; a migration's number becomes PRAGMA user_version. Never edit a shipped one: add the next. */
export const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [{ version: 1, sql: INIT_SQL }];
