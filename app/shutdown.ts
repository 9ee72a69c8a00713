/**
 * Runs `stop` once on SIGTERM, SIGINT or, when start.ts supervises us, on
 * losing the parent (its IPC channel closes), then exits: 0 if it went
 * cleanly, 1 otherwise.
 */
export function onShutdown(name: string, stop: () => Promise<unknown>): void {
  let stopping = false;
  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${name}: ${why}, shutting down\n`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${name}: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (process.send !== undefined) process.on('disconnect', () => shutdown('supervisor gone'));
}
