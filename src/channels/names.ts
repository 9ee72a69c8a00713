import { randomBytes } from 'node:crypto';
import { ConfigError } from '../core/errors.js';

// Names end up inside Redis channel names, so keep them to a safe alphabet (as Django Channels does).
const GROUP = /^[A-Za-z0-9._-]{1,100}$/;
const CHANNEL = /^([A-Za-z0-9._-]{1,100})\.([A-Za-z0-9_-]{8,32})!([A-Za-z0-9_-]{16,64})$/;

/** A fresh id for one layer instance; channel names carry it so senders know where to route. */
export function newLayerId(): string {
  return randomBytes(9).toString('base64url');
}

/** `<prefix>.<layerId>!<128 random bits>`: unguessable, and routable to the layer that reads it. */
export function makeChannelName(layerId: string, prefix = 'specific'): string {
  if (!GROUP.test(prefix)) throw new ConfigError(`channel prefix "${prefix}" must be 1-100 of A-Z a-z 0-9 . _ -`);
  return `${prefix}.${layerId}!${randomBytes(16).toString('base64url')}`;
}

/** The id of the layer that reads `channel`; throws ConfigError for a malformed name. */
export function layerIdOf(channel: string): string {
  const match = CHANNEL.exec(channel);
  if (!match) throw new ConfigError(`"${channel}" is not a channel name from newChannel()`);
  return match[2]!;
}

export function checkGroup(group: string): string {
  if (typeof group !== 'string' || !GROUP.test(group)) {
    throw new ConfigError(`group name "${group}" must be 1-100 of A-Z a-z 0-9 . _ -`);
  }
  return group;
}
