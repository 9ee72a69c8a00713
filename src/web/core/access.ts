import { ConfigError, ErrandError } from '../../core/errors.js';
import type { TaskInfo } from '../../core/types.js';
import type { StatusEvent } from '../../status/status-event.js';
import { statusMessage, type StatusMessage } from '../../status/status-message.js';
import type { Refusal } from '../http-errors.js';
import { checkAuthorized } from './authorize-check.js';
import type { WebRequest } from './web-request.js';

/**
 * Decides whether `request` may watch task `taskId`, before anything about the
 * task is read or sent (poll, SSE and WebSocket alike; for a WebSocket, before
 * the handshake). Return false for 403, or throw an error with a `status`
 * (e.g. `new AuthorizationError(401, 'sign in first')`) to choose the answer.
 */
export type Authorize = (request: WebRequest, taskId: string) => boolean | Promise<boolean>;

/** The message fields besides `state` and `version` (which every message has). */
export type ExposedField = 'error' | 'errorType' | 'progress' | 'result';

/** What a browser sees by default: the state, the version, the failure's message and class, progress. Not the result. */
export const DEFAULT_EXPOSED: readonly ExposedField[] = Object.freeze(['error', 'errorType', 'progress']);

/** The fields a browser may see: a fixed list, or one chosen per task version and request. */
export type Expose = readonly ExposedField[] | ((info: TaskInfo, request: WebRequest) => readonly ExposedField[]);

/** Thrown by `authorize` to refuse with a chosen status (401 or 403, or 404 to hide the task). */
export class AuthorizationError extends ErrandError {
  constructor(
    readonly status: 401 | 403 | 404 = 403,
    message = status === 401 ? 'sign in to watch this task' : status === 404 ? 'no such task' : 'you may not watch this task',
  ) {
    super('ERR_UNAUTHORIZED', message);
  }
}

export interface AccessOptions {
  authorize?: Authorize;
  expose?: Expose;
  exposeResult?: boolean;
}

const FIELDS: readonly ExposedField[] = ['error', 'errorType', 'progress', 'result'];

/** authorize + expose, as every route applies them. */
export class AccessPolicy {
  private readonly authorize?: Authorize;
  private readonly fixed?: FieldSet;
  private readonly choose?: (info: TaskInfo, request: WebRequest) => readonly ExposedField[];
  /** Answers depend on who asks: shared caches must not keep them. */
  readonly personal: boolean;

  constructor(
    options: AccessOptions,
    private readonly log: (error: unknown, message: string) => void,
  ) {
    const { authorize, expose, exposeResult } = options;
    if (authorize !== undefined && typeof authorize !== 'function') throw new ConfigError('authorize must be a function');
    if (exposeResult !== undefined && expose !== undefined) {
      throw new ConfigError('give expose or exposeResult, not both (expose: [...] lists every field shown)');
    }
    this.authorize = authorize;
    if (typeof expose === 'function') this.choose = expose;
    else if (expose !== undefined) this.fixed = fieldSet(checkFields(expose));
    else this.fixed = fieldSet(exposeResult ? [...DEFAULT_EXPOSED, 'result'] : DEFAULT_EXPOSED);
    this.personal = authorize !== undefined || this.choose !== undefined;
  }

  /** Cache-Control of answers about a task. */
  cacheControl(base = 'no-cache'): string {
    return this.personal ? `${base}, private` : base;
  }

  /** undefined when `request` may watch `taskId`; otherwise the refusal to answer with. */
  async check(request: WebRequest, taskId: string): Promise<Refusal | undefined> {
    const authorize = this.authorize;
    if (!authorize) return undefined;
    return checkAuthorized(() => authorize(request, taskId), 'you may not watch this task', this.log);
  }

  /** The message `request` may see of a task version. */
  message(info: TaskInfo, request: WebRequest): StatusMessage {
    return pick(statusMessage(info), this.fieldsFor(info, request));
  }

  /** The JSON of `event` for `request`, encoded once per event and field set however many clients get it. */
  encode(event: StatusEvent, request: WebRequest): string {
    return this.encoded(event, request).json;
  }

  /** `encode` as UTF-8 bytes, also built once per event and field set: the same bytes go to every WebSocket. */
  encodeBytes(event: StatusEvent, request: WebRequest): Uint8Array {
    const entry = this.encoded(event, request);
    return (entry.bytes ??= utf8.encode(entry.json));
  }

  private encoded(event: StatusEvent, request: WebRequest): Encoded {
    const fields = this.fieldsFor(event.info, request);
    let byFields = encodings.get(event);
    if (!byFields) encodings.set(event, (byFields = new Map()));
    let entry = byFields.get(fields.key);
    if (entry === undefined) byFields.set(fields.key, (entry = { json: JSON.stringify(pick(event.message, fields)) }));
    return entry;
  }

  private fieldsFor(info: TaskInfo, request: WebRequest): FieldSet {
    if (this.fixed) return this.fixed;
    let chosen: readonly ExposedField[];
    try {
      chosen = checkFields(this.choose!(info, request));
    } catch (error) {
      this.log(error, 'errand: expose threw; sending the default fields');
      chosen = DEFAULT_EXPOSED;
    }
    return fieldSet(chosen);
  }
}

interface FieldSet {
  has: ReadonlySet<ExposedField>;
  key: string;
}

/** One event's message for one field set: its JSON, and its UTF-8 bytes once a WebSocket asked for them. */
interface Encoded {
  json: string;
  bytes?: Uint8Array;
}

const utf8 = new TextEncoder();
const encodings = new WeakMap<StatusEvent, Map<string, Encoded>>();

function fieldSet(fields: readonly ExposedField[]): FieldSet {
  const has = new Set(fields);
  return { has, key: FIELDS.filter((f) => has.has(f)).join(',') };
}

function checkFields(fields: readonly ExposedField[]): readonly ExposedField[] {
  if (!Array.isArray(fields)) throw new ConfigError('expose must list fields, e.g. ["error", "progress", "result"]');
  for (const field of fields) {
    if (!FIELDS.includes(field)) throw new ConfigError(`expose: unknown field "${String(field)}" (${FIELDS.join(', ')})`);
  }
  return fields;
}

function pick(message: StatusMessage, fields: FieldSet): StatusMessage {
  const out: StatusMessage = { state: message.state, version: message.version };
  if (message.error !== undefined && fields.has.has('error')) out.error = message.error;
  if (message.errorType !== undefined && fields.has.has('errorType')) out.errorType = message.errorType;
  if (message.progress !== undefined && fields.has.has('progress')) out.progress = message.progress;
  if (message.result !== undefined && fields.has.has('result')) out.result = message.result;
  return out;
}
