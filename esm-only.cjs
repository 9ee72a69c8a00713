// What require('errand') loads where Node cannot require() an ES module
// (Node before 20.19 / 22.12, or --no-experimental-require-module). Newer
// Node takes the "module-sync" condition in package.json and loads dist/ itself.
'use strict';

const error = new Error(
  'errand is ESM-only and this Node cannot require() an ES module. ' +
    'Use import { createApp } from \'errand\' in an ES module (add "type": "module" to your package.json, ' +
    "or name the file .mjs / .mts), or from CommonJS load it with const { createApp } = await import('errand'). " +
    'Node 20.19+ and 22.12+ can also require() it.',
);
error.code = 'ERR_REQUIRE_ESM';
throw error;
