// One id per `npm run test:chaos` run, stamped on every figure it writes.
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    chaosRunId: string;
  }
}

export default function setup(project: TestProject): void {
  project.provide('chaosRunId', new Date().toISOString());
}
