import { expectTypeOf, test } from 'vitest';
import type { StatusMessage as ClientStatus, TaskState as ClientState } from '../../src/client/index.js';
import type { TaskState } from '../../src/core/states.js';
import type { StatusMessage as ServerStatus } from '../../src/status/index.js';

// The client re-declares StatusMessage (it may not import server code): keep the two identical.
test('the client and server StatusMessage types are the same type', () => {
  expectTypeOf<ClientStatus>().toEqualTypeOf<ServerStatus>();
  expectTypeOf<ClientState>().toEqualTypeOf<TaskState>();
  const fromServer: ServerStatus = { state: 'SUCCESS', version: 2, result: 1 };
  const fromClient: ClientStatus = fromServer;
  const back: ServerStatus = fromClient;
  expectTypeOf(back).toEqualTypeOf<ServerStatus>();
});
