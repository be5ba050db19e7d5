#!/usr/bin/env bash
# Builds Toxiproxy's server (github.com/Shopify/toxiproxy, MIT licence) from the Go module proxy into
# .tools/bin/toxiproxy-server, for the network faults (docs/faults.md) and their tests. Nothing of
# Toxiproxy is committed: .tools/ is git-ignored, and this script is how every machine gets it.
#
#   npm run toxiproxy:install            # v2.5.0, or TOXIPROXY_VERSION=v2.3.0 for the older one
#
# Its server listens on "localhost:8474" by default and its HTTP API has no authentication: flashsale
# always starts it with -host 127.0.0.1 and a free port of its own (src/faults/toxiproxy/server.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${TOXIPROXY_VERSION:-v2.5.0}"
MODULE="github.com/Shopify/toxiproxy/v2"
DEST=".tools/bin"
BIN="$DEST/toxiproxy-server"

GO="$(command -v go || true)"
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
if [[ -z $GO ]]; then
  echo "toxiproxy:install: no Go toolchain (go on PATH or /usr/local/go/bin/go): install Go, or put a toxiproxy-server on PATH" >&2
  exit 1
fi

if [[ -x $BIN && "$(cat "$BIN.version" 2>/dev/null)" == "$VERSION" ]]; then
  echo "toxiproxy:install: $BIN $VERSION is already there"
  exit 0
fi

# go install names the binary after its package folder (cmd/server → "server"): build into a
# scratch folder, then give it a name that says what it is.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "toxiproxy:install: building $MODULE/cmd/server@$VERSION with $("$GO" version)"
# GOTOOLCHAIN=local: build with the Go that is here, never fetch another toolchain.
GOBIN="$scratch" GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO" install "$MODULE/cmd/server@$VERSION"

licence="$("$GO" env GOMODCACHE)/github.com/!shopify/toxiproxy/v2@$VERSION/LICENSE"
if ! head -n 1 "$licence" 2>/dev/null | grep -q 'MIT License'; then
  echo "toxiproxy:install: $licence does not read as the MIT licence: check it before using the binary" >&2
  exit 1
fi

mkdir -p "$DEST"
mv "$scratch/server" "$BIN"
echo "$VERSION" > "$BIN.version"
echo "toxiproxy:install: $BIN ($VERSION, MIT licence)"
