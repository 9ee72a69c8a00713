import { CronExpressionParser } from 'cron-parser';
import type { CronPlanner, TickPlan } from '../core/beat/schedule-spec.js';

/**
 * Cron schedules through cron-parser. It lives outside src/core (which
 * imports nothing but core and Node built-ins); createApp hands it to the app.
 */
export const cronPlanner: CronPlanner = (expression, tz) => {
  const fields = expression.trim().split(/\s+/);
  // cron-parser fills in missing fields ('* * *'); a typo should not silently mean "every second".
  if (!expression.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    throw new Error(`cron "${expression}" needs 5 fields, or 6 with seconds first; it has ${fields.length}`);
  }
  const parse = (currentDate: number) => CronExpressionParser.parse(expression, { currentDate, tz: tz ?? 'UTC', strict: false });
  const plan: TickPlan = {
    next: (after) => parse(after).next().getTime(),
    // prev() is strictly before its start: start 1 ms later so a tick exactly at `at` counts
    latest: (at) =>
      parse(at + 1)
        .prev()
        .getTime(),
  };
  plan.next(Date.now()); // an expression that never matches throws here, at schedule time
  return plan;
};
