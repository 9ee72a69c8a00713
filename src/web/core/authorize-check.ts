import { errorCodeFor, type Refusal } from '../http-errors.js';

/**
 * Runs an `authorize` decision and turns its outcome into a refusal, the same
 * way for every route: true serves; false is 403; a thrown error with a
 * 4xx `status`/`statusCode` is that status; anything else is a logged 500
 * (fail closed, saying nothing about why).
 */
export async function checkAuthorized(
  decide: () => boolean | Promise<boolean>,
  deniedMessage: string,
  log: (error: unknown, message: string) => void,
): Promise<Refusal | undefined> {
  try {
    if ((await decide()) === true) return undefined;
    return { status: 403, body: { error: 'forbidden', message: deniedMessage } };
  } catch (error) {
    const status = statusOf(error);
    if (status !== undefined) {
      const message = error instanceof Error && error.message ? error.message : 'refused';
      return { status, body: { error: errorCodeFor(status), message } };
    }
    log(error, 'errand: authorize threw');
    return { status: 500, body: { error: 'internal', message: 'authorization failed' } };
  }
}

/** A client-error status carried by a thrown error (`status` or `statusCode`, 400–499). */
function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 499 ? value : undefined;
}
