#!/usr/bin/env node
// `sandbox-routing-worker-teardown --sandbox <name>`: see worker/src/teardown.ts.
require('../dist/teardown.js').runProcess();
