#!/bin/sh
# Writes the three hospitals' keys into docker/data/<hospital> and docker/.env (see setup.ts).
#   docker/setup.sh            demo keys matching the committed genesis.json and hospital-*.toml (public!)
#   docker/setup.sh --fresh    random keys; rewrites genesis.json and hospital-*.toml
# Runs setup.ts with the repository's Node 24 when `npm install` was run, else inside the medchain image.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

if [ -x "$root/node_modules/.bin/node" ] && [ -d "$root/node_modules/@libp2p/crypto" ]; then
  exec "$root/node_modules/.bin/node" "$here/setup.ts" "$@"
fi

if ! command -v docker >/dev/null 2>&1; then
  echo "setup.sh: needs either 'npm install' in $root (for Node 24 and the dependencies) or docker" >&2
  exit 1
fi
docker build -f "$here/Dockerfile" -t medchain:local "$root"
mkdir -p "$here/data"
exec docker run --rm --user "$(id -u):$(id -g)" -v "$here:/app/docker" --entrypoint node medchain:local /app/docker/setup.ts "$@"
