import type { Settings } from './context.js';
import type { SystemName } from './systems/types.js';
import type { BulkSample } from './workloads/bulk.js';
import type { CommandsSample } from './workloads/commands.js';
import type { LatencySample } from './workloads/latency.js';
import type { ThroughputSample } from './workloads/throughput.js';

export interface Meta {
  date: string;
  node: string;
  redis: string;
  /** errand's source: commit, and whether src/ had uncommitted changes. */
  git?: string;
  nproc: number;
  cpu: string;
  loadBefore: string;
  loadAfter?: string;
  command: string;
  durationS?: number;
}

export interface SystemInfo {
  name: SystemName;
  version: string;
  bulkMethod: string;
  altBulkMethod?: string;
  available: boolean;
  error?: string;
}

export interface ProfileEntry {
  label: string;
  file: string;
  totalMs: number;
  top: Array<{ fn: string; where: string; selfMs: number; selfPct: number }>;
  byModule: Array<{ module: string; selfMs: number; selfPct: number }>;
}

/** Everything one `npm run bench` measured. */
export interface BenchResults {
  meta: Meta;
  settings: Settings;
  workloads: string[];
  systems: SystemInfo[];
  throughput: ThroughputSample[];
  latency: LatencySample[];
  commands: CommandsSample[];
  /** Absent in results written before the bulk workload existed. */
  bulk?: BulkSample[];
  errors: string[];
  profiles: ProfileEntry[];
}
