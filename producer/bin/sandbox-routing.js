#!/usr/bin/env node
// `sandbox-routing publish|load|console`. OpenTelemetry starts first, before anything loads kafkajs: its
// instrumentation patches kafkajs only when it is loaded after it (what `node --require` did by hand).
require('../dist/instrument.js');
require('../dist/cli.js').runProcess();
