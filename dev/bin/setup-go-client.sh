#!/usr/bin/env bash
# Builds the foreign Go Temporal client of the tests (dev/src/clients/go: Temporal's Go SDK with its
# OpenTelemetry interceptor, no project code) into .tools/bin/temporal-go-client. Rebuilt only when its
# pinned dependencies or sources change (a stamp records what was built). Needs Go 1.26+.
set -euo pipefail
cd "$(dirname "$0")/../.."

SRC=dev/src/clients/go
BIN=.tools/bin/temporal-go-client
stamp="$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go | sha256sum | cut -c1-16)"
if [ "$(cat "$BIN.stamp" 2>/dev/null)" = "$stamp" ] && [ -x "$BIN" ]; then
  echo "$BIN is up to date"
  exit 0
fi
start=$SECONDS
echo "building the Go Temporal SDK client into $BIN (first run downloads modules)"
mkdir -p .tools/bin
(cd "$SRC" && GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w" -o "../../../../$BIN" .)
echo "$stamp" >"$BIN.stamp"
echo "built $BIN in $((SECONDS - start)) s"
