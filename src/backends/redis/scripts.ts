import { shardedScript, type RedisClient } from './cluster.js';

export type ScriptArg = string | number;

/**
 * Registers Lua scripts on a connection with defineCommand (EVALSHA, EVAL on
 * NOSCRIPT). On a Cluster they publish on sharded pub/sub (cluster.ts shardedScript).
 */
export function defineScripts(redis: RedisClient, scripts: Readonly<Record<string, string>>): void {
  for (const [name, lua] of Object.entries(scripts)) {
    redis.defineCommand(name, { lua: redis.isCluster ? shardedScript(lua) : lua });
  }
}

/** Calls a script registered with defineScripts. */
export function callScript(
  redis: RedisClient,
  name: string,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  const fn = (redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[name]!;
  return fn.call(redis, keys.length, ...keys, ...args);
}
