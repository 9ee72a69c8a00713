/** Every error body errand's web routes send. */
export interface ErrorBody {
  error: 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found' | 'unavailable' | 'internal';
  message: string;
  /** The request field at fault, for bad_request. */
  field?: string;
}

/** An answer that is not the route's: the status, a JSON body, and any extra headers. */
export interface Refusal {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

export const brokerUnavailable: ErrorBody = { error: 'unavailable', message: 'the task broker is unavailable; try again' };

export function notFound(id: string): ErrorBody {
  return { error: 'not_found', message: `no task with id "${id}" (unknown or expired)` };
}

/** The error code a status stands for. */
export function errorCodeFor(status: number): ErrorBody['error'] {
  if (status === 400) return 'bad_request';
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'internal';
  return 'forbidden';
}
