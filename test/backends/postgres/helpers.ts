import { randomUUID } from 'node:crypto';
import type { NewTask } from '../../../src/core/backend.js';
import { PostgresBackend, type PostgresBackendOptions } from '../../../src/backends/postgres/index.js';
import { dropSchema, POSTGRES_URL, uniqueSchema } from '../../support/postgres.js';

/** Opens backends on fresh schemas and closes them (and drops the schemas) in cleanup(). */
export class BackendPool {
  private readonly backends: PostgresBackend[] = [];
  private readonly schemas = new Set<string>();

  newSchema(label = 'pgtest'): string {
    const schema = uniqueSchema(label);
    this.schemas.add(schema);
    return schema;
  }

  open(options: Partial<PostgresBackendOptions> = {}): PostgresBackend {
    const schema = options.schema ?? this.newSchema();
    this.schemas.add(schema);
    const backend = new PostgresBackend({ url: POSTGRES_URL, resultTtlMs: 60_000, deadLetterLimit: 100, ...options, schema });
    this.backends.push(backend);
    return backend;
  }

  async cleanup(): Promise<void> {
    for (const backend of this.backends.splice(0)) await backend.close();
    for (const schema of this.schemas) await dropSchema(schema);
    this.schemas.clear();
  }
}

export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  const at = Date.now();
  return { id: randomUUID(), name: 'test.task', queue: 'q', payload: '[1,"a"]', enqueuedAt: at, runAt: at, ...overrides };
}

export const claimRequest = (overrides: Partial<Parameters<PostgresBackend['claim']>[0]> = {}) => ({
  workerId: 'w1',
  queues: ['q'],
  limit: 10,
  leaseMs: 30_000,
  waitMs: 0,
  ...overrides,
});
