import type { Redis } from 'ioredis';

export type ScriptArg = string | number;

/** Registers Lua scripts on a connection with defineCommand (EVALSHA, EVAL on NOSCRIPT). */
export function defineScripts(redis: Redis, scripts: Readonly<Record<string, string>>): void {
  for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { lua });
}

/** Calls a script registered with defineScripts. */
export function callScript(redis: Redis, name: string, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
  const fn = (redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[name]!;
  return fn.call(redis, keys.length, ...keys, ...args);
}
