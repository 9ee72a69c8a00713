import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./browser/page.ts', import.meta.url));
/** The chat and live chart pages' script (Chart.js included), kept out of the form pages' bundle. */
export const LIVE_ENTRY = fileURLToPath(new URL('./browser/live-page.ts', import.meta.url));

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/**
 * Bundles the errand browser client with the page script, in memory, at
 * server start: one same-origin file, as `script-src 'self'` demands, and
 * no build step before `npm start`.
 */
export async function bundleClient(entry: string = ENTRY): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    logLevel: 'silent',
  }).catch((error: unknown) => {
    throw new BundleError(`could not bundle the page script: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  });
  const file = result.outputFiles[0];
  if (!file) throw new BundleError('esbuild produced no output');
  return file.text;
}
