// errand/node: the node:http adapter.
export { attachErrandUpgrades, createErrandHandler, type ErrandHandler, type ErrandUpgrades } from './node-handler.js';
export type { AttachableServer, UpgradeServer } from './upgrade-dispatcher.js';
export * from '../public-api.js';
