#!/usr/bin/env node
// `sandbox-routing-ingress-teardown --sandbox <name>`: see ingress/src/teardown.ts.
require('../dist/teardown.js').runProcess();
