import { ErrandError } from '../core/errors.js';

/** Why a delivery's signature was refused; also the `error` word of the 401 answer. */
export type VerificationFailure =
  'missing_signature' | 'malformed_signature' | 'timestamp_out_of_tolerance' | 'signature_mismatch';

/** A webhook delivery whose signature or timestamp does not check out: answer 401, run nothing. */
export class WebhookVerificationError extends ErrandError {
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super('ERR_WEBHOOK_VERIFICATION', message);
  }
}
