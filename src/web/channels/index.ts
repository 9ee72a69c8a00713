// Channel WebSocket routes: served by every web adapter through the `channels` option.
export {
  CHANNEL_CLOSE,
  channelRoute,
  type AnyChannelRoute,
  type ChannelRoute,
  type ChannelRoutesOptions,
  type ChannelSocket,
} from './channel-route.js';
