import type { Errand } from '../../core/errand.js';
import { ConfigError } from '../../core/errors.js';
import type { HttpRoute } from '../core/route-table.js';
import type { Sessions } from '../sessions.js';
import { actionRoutes } from './action-routes.js';
import { apiRoutes } from './api-routes.js';
import { assetRoute } from './assets.js';
import type { DashboardContext } from './context.js';
import { liveRoute } from './live-route.js';
import { checkDashboardOptions, type DashboardOptions } from './options.js';
import { pageRoutes } from './page-routes.js';
import { PanelCache } from './panel-cache.js';

export interface DashboardMount {
  app: Errand;
  prefix: string;
  sessions: Sessions;
  heartbeatMs: number;
  log(error: unknown, message: string): void;
}

/** The dashboard's routes under {prefix}/dashboard/, or none when `options` is not given. */
export function dashboardRoutes(options: DashboardOptions | undefined, mount: DashboardMount): HttpRoute[] {
  if (options === undefined) return [];
  if (!mount.app.admin) throw new ConfigError('dashboard needs an app with app.admin');
  const checked = checkDashboardOptions(options);
  const context: DashboardContext = {
    ...mount,
    options: checked,
    base: `${mount.prefix}/dashboard`,
    panels: new PanelCache(checked.refreshMs * 0.9),
  };
  return [...pageRoutes(context), assetRoute(), liveRoute(context), ...apiRoutes(context), ...actionRoutes(context)];
}
