import { z } from 'zod';

export interface Subscription {
  email: string;
  username: string;
}

export type FieldErrors = Partial<Record<keyof Subscription, string>>;

export type ValidationOutcome = { ok: true; value: Subscription } | { ok: false; fields: FieldErrors };

const subscriptionSchema = z.object({
  email: z
    .string({ error: 'Enter an email address.' })
    .trim()
    .min(1, { error: 'Enter an email address.' })
    .max(254, { error: 'An email address has at most 254 characters.' })
    .pipe(z.email({ error: 'Enter a valid email address.' })),
  username: z
    .string({ error: 'Enter a username.' })
    .trim()
    .min(1, { error: 'Enter a username.' })
    .max(100, { error: 'A username has at most 100 characters.' }),
});

/** Checks a submitted form (urlencoded or JSON); names every bad field, first problem only. */
export function validateSubscription(body: unknown): ValidationOutcome {
  const parsed = subscriptionSchema.safeParse(typeof body === 'object' && body !== null ? body : {});
  if (parsed.success) return { ok: true, value: parsed.data };
  const fields: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0];
    if ((field === 'email' || field === 'username') && fields[field] === undefined) fields[field] = issue.message;
  }
  return { ok: false, fields };
}
