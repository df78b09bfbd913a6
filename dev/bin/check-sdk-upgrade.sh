#!/usr/bin/env bash
# SDK-upgrade check: does the routing still work with another Temporal TypeScript SDK? The routing leans on
# SDK internals (it rewrites activation jobs, holds commands in concludeActivation, and imports
# @temporalio/interceptors-opentelemetry/lib/workflow), which a minor release may change.
#
# In a scratch copy of this checkout (tracked and untracked, not ignored, files; never this checkout's
# node_modules) it pins every @temporalio/* package to one version (default: the newest 1.x on the npm
# registry), installs, builds, checks protobufjs is still one copy, replays every recorded history (with
# and without tracing: replay.test), runs the redirect and routing tests against a local stack of its
# own (export the STACK_*_PORT variables of your slot first) and the time-skipping test of held commands.
# It prints each step's result.
#
# Usage: dev/bin/check-sdk-upgrade.sh [--version x.y.z] [--keep]
#   --version  check this SDK version instead of the newest 1.x
#   --keep     leave the scratch tree (its path is printed) for a closer look
set -euo pipefail
# The whole script is one function, read before it runs: editing the file during a run changes nothing.
main() {
cd "$(dirname "$0")/../.."
REPO="$PWD"

say() { printf '[check:sdk] %s\n' "$*"; }
usage() {
  echo "usage: check-sdk-upgrade.sh [--version x.y.z] [--keep]" >&2
  exit 2
}

version=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
  --version)
    [ $# -ge 2 ] || usage
    version="$2"
    shift 2
    ;;
  --version=*)
    version="${1#--version=}"
    shift
    ;;
  --keep)
    keep=1
    shift
    ;;
  *) usage ;;
  esac
done
if [ -n "$version" ] && ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  say "--version wants x.y.z, got: $version"
  exit 2
fi

pinned="$(node -p "require('./shared/temporal/package.json').dependencies['@temporalio/worker']")"
if [ -z "$version" ]; then
  # The newest 1.x release (no pre-releases) of the worker package; all SDK packages release together.
  version="$(npm view @temporalio/worker versions --json | node -e '
    const all = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const ones = all.filter((v) => /^1\.\d+\.\d+$/.test(v));
    ones.sort((a, b) => { const x = a.split(".").map(Number), y = b.split(".").map(Number); return x[1] - y[1] || x[2] - y[2]; });
    process.stdout.write(ones.at(-1) ?? "");')"
  [ -n "$version" ] || {
    say "no 1.x release of @temporalio/worker found on the registry"
    exit 1
  }
  say "newest 1.x on the registry: $version (pinned here: $pinned)"
else
  [ -n "$(npm view "@temporalio/worker@$version" version 2>/dev/null)" ] || {
    say "@temporalio/worker@$version is not on the registry"
    exit 2
  }
  say "checking the SDK version asked for: $version (pinned here: $pinned)"
fi
[ "$version" = "$pinned" ] && say "that is the pinned version: this run verifies it"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/sdk-check.XXXXXX")"
cleanup() {
  # The scratch stack is brought down by `stack exec` itself; only the files are left to remove.
  if [ "$keep" = 1 ]; then say "scratch tree kept: $scratch/tree"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
tree="$scratch/tree"
mkdir -p "$tree"
say "copying the sources to $tree"
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$tree"
# The fetched tools (Kafka jars, Temporal CLI, test server) are shared, read-only here.
ln -s "$(readlink -f .tools)" "$tree/.tools"

cd "$tree"
say "pinning every @temporalio/* package to $version"
SDK_VERSION="$version" REPO="$REPO" node -e '
  const fs = require("fs");
  const { execSync } = require("child_process");
  const version = process.env.SDK_VERSION;
  const files = execSync("git -C " + JSON.stringify(process.env.REPO) + " ls-files \"*package.json\"", { encoding: "utf8" })
    .split("\n").filter((f) => f && !f.includes("node_modules") && fs.existsSync(f));
  const seen = new Set();
  for (const file of files) {
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    let changed = false;
    for (const field of ["dependencies", "devDependencies", "peerDependencies"]) {
      for (const name of Object.keys(pkg[field] ?? {})) {
        if (!name.startsWith("@temporalio/")) continue;
        seen.add(name);
        if (pkg[field][name] !== version) { pkg[field][name] = version; changed = true; }
      }
    }
    if (changed) fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
  }
  // Transitive ones too (@temporalio/proto, core-bridge, nexus...): one SDK version in the whole tree.
  const root = JSON.parse(fs.readFileSync("package.json", "utf8"));
  for (const name of [...seen, "@temporalio/proto", "@temporalio/core-bridge", "@temporalio/nexus"])
    root.overrides[name] = version;
  fs.writeFileSync("package.json", JSON.stringify(root, null, 2) + "\n");
'

steps=()
failed=0
step() { # <name> <command...>: runs one step, records its result and time
  local name="$1" started=$SECONDS
  shift
  say "== $name"
  if "$@"; then
    steps+=("PASS  $name ($((SECONDS - started)) s)")
  else
    steps+=("FAIL  $name ($((SECONDS - started)) s)")
    failed=1
  fi
}
report() {
  say "SDK version checked: $version (pinned: $pinned)"
  for line in "${steps[@]}"; do say "  $line"; done
  if [ "$failed" = 0 ]; then say "result: PASS"; else say "result: FAIL"; fi
}

# A fresh resolution: the lockfile pins the current SDK, so it is dropped here (never in the checkout).
rm -f package-lock.json
step "npm install" npm install --no-audit --no-fund --loglevel=error
installed() {
  node -e '
    const names = ["worker", "client", "workflow", "activity", "common", "proto", "core-bridge",
      "interceptors-opentelemetry", "plugin", "testing"];
    const found = {};
    for (const n of names) { try { found[n] = require(`@temporalio/${n}/package.json`).version; } catch {} }
    console.log(Object.entries(found).map(([n, v]) => `@temporalio/${n}@${v}`).join(" "));
    const wrong = Object.values(found).filter((v) => v !== process.argv[1]);
    process.exit(wrong.length === 0 ? 0 : 1);' "$version"
}
step "every @temporalio/* package at $version" installed
# The routing and Temporal must share one protobufjs (the root package.json keeps it single-copy).
one_protobufjs() {
  local copies
  copies="$(npm ls protobufjs --all --parseable 2>/dev/null | grep -c 'node_modules/protobufjs$' || true)"
  local temporal_copies
  temporal_copies="$(find node_modules/@temporalio -path '*/node_modules/protobufjs/package.json' | wc -l)"
  say "protobufjs copies in the tree: $copies; nested under @temporalio: $temporal_copies"
  [ "$temporal_copies" = 0 ]
}
step "protobufjs single-copy under @temporalio" one_protobufjs
# testkit first: shared/kafka, producer and worker import it in tests without a tsconfig reference, so a
# clean `tsc -b` builds them before it and fails (a checkout that built before does not notice).
build() { npx tsc -b testkit && npx tsc -b; }
step "build (tsc -b)" build
step "replay every recorded history, with and without tracing" node dev/dist/test-runner.js --unit library/temporal/__tests__/replay
step "redirect and routing tests on a local stack" \
  node dev/dist/stack/cli.js exec -- node dev/dist/test-runner.js \
  library/temporal/__tests__/redirect.integration library/temporal/__tests__/routing.integration
# Timers and children held while the route check runs, under @temporalio/testing's time skipping.
step "held commands under time skipping (@temporalio/testing)" \
  node dev/dist/test-runner.js library/temporal/__tests__/time-skipping.integration
report
exit "$failed"
}
main "$@"
