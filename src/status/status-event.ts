import { isTerminal } from '../core/states.js';
import type { TaskInfo } from '../core/types.js';
import { statusMessage, type StatusMessage } from './status-message.js';

/**
 * One version of a task's status as the hub hands it out. The wire message and
 * its JSON are built once, on first use, however many subscribers send them.
 */
export class StatusEvent {
  readonly version: number;
  readonly terminal: boolean;
  private cachedMessage?: StatusMessage;
  private cachedJson?: string;

  constructor(readonly info: TaskInfo) {
    this.version = info.version;
    this.terminal = isTerminal(info.state);
  }

  get message(): StatusMessage {
    return (this.cachedMessage ??= statusMessage(this.info));
  }

  get json(): string {
    return (this.cachedJson ??= JSON.stringify(this.message));
  }
}
