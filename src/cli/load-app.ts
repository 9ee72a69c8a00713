import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Errand } from '../core/errand.js';
import { CliError } from './cli-error.js';

/**
 * Imports the user's app module (JavaScript, or TypeScript through tsx) and
 * returns the errand app it exports as `app` or as its default export.
 * `--broker` is handed over as ERRAND_BROKER, which createApp() reads.
 */
export async function loadApp(path: string, broker?: string): Promise<Errand> {
  const file = resolve(path);
  if (!existsSync(file)) throw new CliError(`--app ${path}: no such file`);
  if (broker !== undefined) process.env.ERRAND_BROKER = broker;
  if (/\.[cm]?tsx?$/.test(file)) await registerTsx(path);
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`--app ${path}: could not load it: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  const app = loaded.app ?? loaded.default;
  if (!isErrandApp(app)) {
    throw new CliError(
      `--app ${path} exports no errand app: export it as \`app\` (export const app = createApp(...)) or as default`,
    );
  }
  return app;
}

/** Duck-typed, not instanceof: the app module may load another copy of errand than this CLI's (a linked or nested install). */
function isErrandApp(value: unknown): value is Errand {
  const app = value as Partial<Errand> | undefined;
  return (
    typeof app === 'object' &&
    app !== null &&
    typeof app.worker === 'function' &&
    typeof app.beat === 'function' &&
    typeof app.close === 'function' &&
    typeof app.backend === 'object'
  );
}

/** TypeScript app modules load through tsx's ESM hooks (tsx must be installed with the app), unless tsx is loaded already. */
async function registerTsx(path: string): Promise<void> {
  if (process.execArgv.some((arg) => arg.includes('tsx'))) return;
  let api: { register(): unknown };
  try {
    api = (await import('tsx/esm/api')) as typeof api;
  } catch (error) {
    throw new CliError(`--app ${path} is TypeScript: loading it needs tsx (npm install tsx), or point --app at the built .js`, {
      cause: error,
    });
  }
  api.register();
}
