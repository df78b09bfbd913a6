#!/usr/bin/env bash
# Installs everything the demo and the tests need, on a fresh machine or an up-to-date one (then it
# takes a few seconds): npm packages, kcat and Chromium (apt), the Kafka jars (Maven Central), the
# Temporal CLI (go install).
# Needs Node 20.19+ (require(esm), which a fastify dependency needs), Java 17+, Maven and Go 1.25+ on PATH.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[setup] %s\n' "$*"; }
need() {
  command -v "$1" >/dev/null 2>&1 || { say "missing: $1 ($2)"; exit 1; }
}
need node "Node.js 20 or newer"
need java "Java 17 or newer, for the local Kafka broker"
need mvn "Maven, to fetch the Kafka jars from Maven Central"
node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)' ||
  { say "Node 20.19+ required (require(esm)), found $(node -v)"; exit 1; }

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

# Kafka jars and the Temporal CLI (built with go install unless a `temporal` is on PATH).
npx tsc -b dev
node dev/dist/stack/cli.js install
if [ -f dev/bin/setup-k8s-tools.sh ]; then bash dev/bin/setup-k8s-tools.sh; fi
say "ready"
