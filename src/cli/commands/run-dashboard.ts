import { serveDashboard } from '../../web/dashboard/serve.js';
import type { DashboardAuth } from '../../web/dashboard/options.js';
import { CliError } from '../cli-error.js';
import { wholeNumber, untilSignal } from './run-worker.js';
import { withBroker, type BrokerFlags } from './with-broker.js';

export interface DashboardFlags extends BrokerFlags {
  port?: string;
  host?: string;
  /** user:password for HTTP Basic (write access). */
  basic?: string;
}

/**
 * `errand dashboard`: serves the live dashboard until SIGTERM/SIGINT. On a
 * non-loopback --host it needs credentials: $ERRAND_DASHBOARD_TOKEN (a
 * bearer token or the login form) or --basic user:password.
 */
export async function runDashboard(flags: DashboardFlags, say: (line: string) => void): Promise<void> {
  const port = flags.port === undefined ? 5555 : flags.port === '0' ? 0 : wholeNumber('--port', flags.port);
  const auth: DashboardAuth = {};
  const token = process.env.ERRAND_DASHBOARD_TOKEN;
  if (token) auth.token = token;
  if (flags.basic !== undefined) {
    const colon = flags.basic.indexOf(':');
    if (colon <= 0 || colon === flags.basic.length - 1) throw new CliError('--basic must be user:password');
    auth.basicAuth = { username: flags.basic.slice(0, colon), password: flags.basic.slice(colon + 1) };
  }
  await withBroker(flags, async (app) => {
    let dashboard;
    try {
      dashboard = await serveDashboard({ app, port, ...(flags.host === undefined ? {} : { host: flags.host }), auth });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'EADDRINUSE') throw new CliError(`port ${port} is in use: pick another with --port`);
      throw error;
    }
    say(
      `errand dashboard at ${dashboard.url} on ${app.backend.kind}${token || flags.basic ? ' (credentials required)' : ' (loopback only)'}`,
    );
    await untilSignal();
    await dashboard.close();
  });
}
