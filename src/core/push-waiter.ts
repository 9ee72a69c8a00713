/**
 * Where a watcher sleeps between pushes: `wait(ms)` resolves true when
 * `wake()` is called (a push arrived, or the watch was aborted), false
 * when `ms` passed first (time to re-read, in case a push was lost).
 */
export class PushWaiter {
  private resolveWait?: (pushed: boolean) => void;

  wake(): void {
    this.resolveWait?.(true);
  }

  async wait(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
        this.resolveWait = resolve;
      });
    } finally {
      clearTimeout(timer);
      this.resolveWait = undefined;
    }
  }
}
