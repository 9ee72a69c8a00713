import type { BenchSystem, SystemName } from './types.js';

/** Loads one adapter (lazily, so a child only loads the library it runs). */
export async function loadSystem(name: SystemName): Promise<BenchSystem> {
  switch (name) {
    case 'errand-redis':
      return (await import('./errand.js')).errandSystem('redis');
    case 'errand-sqlite':
      return (await import('./errand.js')).errandSystem('sqlite');
    case 'bullmq':
      return (await import('./bullmq.js')).bullmqSystem();
    case 'bee-queue':
      return (await import('./bee-queue.js')).beeQueueSystem();
  }
}

export { SYSTEM_NAMES, type SystemName, type BenchSystem } from './types.js';
