#!/usr/bin/env bash
# Builds the offline Kubernetes manifest validator (k8s/validate, Go) into .tools/bin/k8s-validate.
#
# Why a program of our own: kubeconform/kubeval download the Kubernetes JSON schemas from GitHub
# at run time, which CI cannot reach. k8s-validate compiles kustomize (krusty) and the typed
# k8s.io/api structs in from Go modules, so it needs the Go module proxy once, at build time.
#
# Idempotent: does nothing when the binary exists and was built from the same sources with the
# same Go (a hash in .tools/bin/k8s-validate.stamp). Needs Go >= 1.26 (see k8s/validate/go.mod).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="$ROOT/k8s/validate"
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/k8s-validate"
STAMP="$BIN.stamp"

if ! command -v go >/dev/null 2>&1; then
  echo "setup-k8s-tools: Go >= 1.26 is required to build k8s/validate (not found on PATH)" >&2
  exit 1
fi

sources_hash() {
  (
    cd "$SRC"
    go version
    sha256sum go.mod go.sum ./*.go
  ) | sha256sum | cut -d' ' -f1
}

hash="$(sources_hash)"
if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$hash" ]]; then
  echo "setup-k8s-tools: $BIN is up to date"
  exit 0
fi

mkdir -p "$BIN_DIR"
start=$SECONDS
echo "setup-k8s-tools: building $BIN (first build downloads Go modules and takes a minute or two)"
(
  cd "$SRC"
  # -mod=readonly: go.sum is committed; a build never edits it.
  CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$BIN.tmp" .
)
mv -f "$BIN.tmp" "$BIN"
echo "$hash" >"$STAMP"
echo "setup-k8s-tools: built $BIN in $((SECONDS - start)) s"
