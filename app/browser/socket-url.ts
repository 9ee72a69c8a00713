/** A same-host WebSocket URL for `path` (wss: on an https: page). */
export function socketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}
