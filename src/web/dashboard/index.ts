// errand/dashboard: the live operations dashboard, mounted by any errand web adapter ({ dashboard }) or served alone.
export { serveDashboard, type DashboardServer, type ServeDashboardOptions } from './serve.js';
export { isLoopbackAddress, isLocalRequest } from './loopback.js';
export { decideAccess, type AccessDecision, type Viewer } from './access.js';
export type {
  AuthorizeDashboard,
  DashboardAccess,
  DashboardAuth,
  DashboardBasicUser,
  DashboardGrant,
  DashboardOptions,
} from './options.js';
