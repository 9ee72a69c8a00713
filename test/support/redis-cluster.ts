import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, it } from 'vitest';

/** A local 3-master Redis Cluster on loopback ports of its own (never 6379). */
export interface LocalCluster {
  /** 127.0.0.1:port of each master. */
  nodes: string[];
  /** A broker URL for the cluster with a prefix no other test uses. */
  url(label?: string): string;
  /** Kills one node (SIGKILL: its data is gone, no persistence) and starts it again on its port and cluster config. */
  restart(node: string): Promise<void>;
  /** Kills the servers (by pid) and removes their directory. */
  stop(): Promise<void>;
}

/** The redis-server 7.x on PATH, or why there is none. */
function redisServerProblem(): string | undefined {
  const server = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (server.error || server.status !== 0) return 'redis-server is not on PATH';
  const version = /v=(\d+)\./.exec(server.stdout)?.[1];
  if (version === undefined || Number(version) < 7) return `redis-server is not 7.x (${server.stdout.trim()})`;
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (cli.error || cli.status !== 0) return 'redis-cli is not on PATH';
  return undefined;
}

/** True when `port` (and its cluster bus port, +10000) can be bound on 127.0.0.1 now. */
async function free(port: number): Promise<boolean> {
  const bind = (p: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(p, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  return (await bind(port)) && (await bind(port + 10000));
}

async function freePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 7100 + Math.floor(Math.random() * 800);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.includes(6379)) continue;
    let ok = true;
    for (const p of ports) if (!(await free(p))) ok = false;
    if (ok) return ports;
  }
  throw new Error('no free ports for a local Redis Cluster in 7100-7902');
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`local Redis Cluster: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ask(port: number, ...command: [string, ...string[]]): Promise<string> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return String(await client.call(...command));
  } finally {
    client.disconnect();
  }
}

/**
 * Starts 3 redis-server processes in cluster mode on free loopback ports
 * (7100 + a random offset), joins them with `redis-cli --cluster create`
 * (no replicas) and waits for cluster_state:ok on every node.
 */
export async function startLocalCluster(): Promise<LocalCluster> {
  const problem = redisServerProblem();
  if (problem) throw new Error(problem);
  const dir = mkdtempSync(join(tmpdir(), 'errand-cluster-'));
  const ports = await freePorts(3);
  const servers: ChildProcess[] = [];
  let output = '';
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  const launch = (port: number): ChildProcess => {
    // no shell: the pid is the server's own
    const server = spawn(
      'redis-server',
      [
        ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
        ...['--cluster-node-timeout', '5000', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ...['--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    return server;
  };
  const kill = (server: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (server.exitCode !== null || server.signalCode !== null || server.pid === undefined) return resolve();
      server.once('exit', () => resolve());
      process.kill(server.pid, 'SIGKILL');
    });
  const healthy = async () => {
    for (const port of ports) {
      await until(`cluster_state:ok on ${port}`, 30_000, async () =>
        (await ask(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
      );
    }
  };
  try {
    for (const port of ports) servers.push(launch(port));
    process.once('exit', () => {
      for (const server of servers) if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    });
    for (const port of ports) await until(`redis-server on ${port}`, 10_000, async () => (await ask(port, 'PING')) === 'PONG');
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await healthy();
    return {
      nodes,
      async restart(node) {
        const i = nodes.indexOf(node);
        if (i === -1) throw new Error(`${node} is not a node of this cluster`);
        await kill(servers[i]!);
        servers[i] = launch(ports[i]!);
        await until(`redis-server on ${ports[i]}`, 10_000, async () => (await ask(ports[i]!, 'PING')) === 'PONG');
        await healthy();
      },
      url: (label = 'test') => `redis+cluster://${nodes.join(',')}/?prefix=errand-${label}-${randomUUID().slice(0, 8)}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output.slice(-2000)}`, { cause: error });
  }
}

/** Deletes every key of a cluster broker URL's prefix ('{prefix}:…'; one slot, so one node, but every master is looked at). */
export async function cleanupClusterUrl(url: string): Promise<void> {
  const prefix = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('prefix');
  const seeds = /^redis\+cluster:\/\/([^/?]*)/.exec(url)?.[1]?.split(',') ?? [];
  if (!prefix || seeds.length === 0) return;
  const cluster = new Cluster(
    seeds.map((s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) })),
    {
      clusterRetryStrategy: () => null,
    },
  );
  cluster.on('error', () => {});
  try {
    for (const node of cluster.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) await node.unlink(key);
      } while (cursor !== '0');
    }
  } finally {
    cluster.disconnect();
  }
}

const problem = redisServerProblem();

/**
 * A describe block with a local cluster of its own, for one test file:
 * started before the block is collected (await this at the top of the file:
 * suites such as flow-control.ts open a broker while they are collected) and
 * stopped in its afterAll, which runs also when tests fail; the servers are
 * killed when the process exits in any case. Skipped with a printed reason
 * when redis-server 7 is missing; with CI=true that is a failure instead.
 */
export async function describeRedisCluster(name: string, fn: (cluster: LocalCluster) => void): Promise<void> {
  let reason = problem === undefined ? undefined : `cannot start a local Redis Cluster: ${problem}`;
  let cluster: LocalCluster | undefined;
  if (reason === undefined) {
    try {
      cluster = await startLocalCluster();
    } catch (error) {
      reason = `the local Redis Cluster did not start: ${(error as Error).message}`;
    }
  }
  if (cluster) {
    const started = cluster;
    describe(name, () => {
      afterAll(() => started.stop());
      fn(started);
    });
    return;
  }
  if (problem === undefined || process.env.CI === 'true') {
    // redis-server is there but the cluster would not start, or CI: a failure, not a skip
    describe(name, () => {
      it('needs a local Redis Cluster', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(name, () => {
    it('needs redis-server 7', () => undefined);
  });
}
