#!/usr/bin/env bash
# Installs everything the demo and the tests need, on a fresh machine or an up-to-date one (then it
# takes a few seconds): npm packages, kcat and Chromium (apt), the Kafka jars (Maven Central), the
# Temporal CLI (go install), Jaeger, the trace viewer (go build from dev/jaeger; skipped with
# STACK_TRACING=off), and the foreign Temporal clients of the tests (Python SDK from PyPI in a venv, Go
# SDK client built once), and the sample's Python payments service with pytest (same venv).
# Needs Node (a supported line: 22, 24 or 26, see package.json's engines; 20.19+ still works, past its end
# of life), Java 17+, Maven, Go 1.26+ and Python 3.9+ (with venv) on PATH.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[setup] %s\n' "$*"; }
need() {
  command -v "$1" >/dev/null 2>&1 || { say "missing: $1 ($2)"; exit 1; }
}
need node "Node.js 22, 24 or 26"
need java "Java 17 or newer, for the local Kafka broker"
need mvn "Maven, to fetch the Kafka jars from Maven Central"
need python3 "Python 3.9 or newer, for the foreign-client tests (Temporal's Python SDK)"
need go "Go 1.26 or newer, for the Temporal CLI and the Go foreign client"
# 20.19 is the oldest that runs this (require(esm), which a fastify dependency needs); the supported lines
# are package.json's engines. An older line is used as it is, and said so.
node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)' ||
  { say "Node 20.19+ required (require(esm)), found $(node -v)"; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' ||
  say "note: Node $(node -v) is past its end of life and not a supported line (22, 24, 26; package.json engines); npm warns EBADENGINE"

# On a fresh machine most of the time is Go builds (CPU) and downloads (network): the Go builds run in
# the background, each logging to .tools/logs/<name>.log, while the downloads go on in the foreground.
# Each build is skipped (in a second) when its stamp says it is up to date.
mkdir -p .tools/logs
declare -A jobs=()
in_background() { # <name> <command...>
  local name="$1"
  shift
  # A session of its own (setsid execs in place, so $! is its PID), so that a failed or interrupted
  # setup stops the whole build (go and its compilers) by process group, not just the shell above it.
  setsid "$@" >".tools/logs/$name.log" 2>&1 &
  jobs[$name]=$!
}
stop_background() {
  local pid
  for pid in "${jobs[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
}
trap stop_background EXIT
wait_for_background() {
  local failed=0 name
  for name in "${!jobs[@]}"; do
    if wait "${jobs[$name]}"; then
      tail -n 2 ".tools/logs/$name.log" | sed -e 's/\x1b\[[0-9;]*m//g' -e "s/^/[setup] $name: /"
    else
      say "$name failed; the end of .tools/logs/$name.log:"
      tail -n 30 ".tools/logs/$name.log" >&2
      failed=1
    fi
  done
  return "$failed"
}

# The offline k8s manifest validator and the foreign Go client need only Go: start them first.
in_background k8s-validator bash dev/bin/setup-k8s-tools.sh
in_background go-client bash dev/bin/setup-go-client.sh

# npm packages: reinstall when the lockfile is newer than the installed tree.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# Debian packages the tests need, installed with apt when missing (as root, or with sudo).
apt_install() { # <command> <package> <why>
  command -v "$1" >/dev/null 2>&1 && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "missing: $1 ($3; install the $2 package)"; exit 1; }
    sudo="sudo"
  fi
  command -v apt-get >/dev/null 2>&1 || { say "missing: $1 ($3; install $2 with your package manager)"; exit 1; }
  say "installing $2 (Debian package: $3)"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
# kcat: the tests send events with `kcat -H` to prove foreign producers route like ours.
apt_install kcat kcat "foreign-producer tests"
# Chromium: the console's browser tests drive it with playwright-core (which never downloads a browser).
apt_install chromium chromium "the console's browser tests"

# Kafka jars, the Temporal CLI (built with go install unless a `temporal` is on PATH) and Jaeger.
npx tsc -b dev
in_background kafka-jars node dev/dist/stack/cli.js install kafka
in_background temporal-cli node dev/dist/stack/cli.js install temporal
# Temporal's Java test server (time-skipping tests), from Maven Central like the Kafka jars.
in_background temporal-test-server node dev/dist/stack/cli.js install temporal-test-server
in_background jaeger node dev/dist/stack/cli.js install jaeger # skipped with STACK_TRACING=off

# Foreign Temporal clients: how services in other languages start workflows (no project code in them).
# Each is (re)built when its pinned dependencies change; a stamp records what was built.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
# The venv also runs the sample's payments service (Python) and its tests (pytest): one set of pins,
# which pip checks for conflicts as it installs them together.
PY_VENV=.tools/python
PY_REQUIREMENTS=(dev/src/clients/python/requirements.txt payments/requirements.txt payments/requirements-dev.txt)
py_stamp="$(stamp_of "${PY_REQUIREMENTS[@]}")"
if [ "$(cat "$PY_VENV/.stamp" 2>/dev/null)" != "$py_stamp" ]; then
  say "installing the Python Temporal SDK client, the payments service's packages and pytest (PyPI) into $PY_VENV"
  # A new venv only when there is none that works: otherwise the pins are installed into it, so a
  # venv in use (a .tools shared by several checkouts) is never removed from under a running test.
  if ! "$PY_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$PY_VENV"
    python3 -m venv "$PY_VENV"
  fi
  # Packages are only added or re-pinned, never removed: other checkouts may share this venv.
  "$PY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    -r dev/src/clients/python/requirements.txt -r payments/requirements-dev.txt
  echo "$py_stamp" > "$PY_VENV/.stamp"
fi
wait_for_background || exit 1
jobs=()
say "ready"
