#!/usr/bin/env bash
# Build SeaweedFS (the S3-compatible object store) with Go from the module proxy into
# $DINAMIS_CACHE/seaweedfs/<version>/weed. Idempotent; concurrent runs wait for each other.
# `go install …/weed@version` is refused (the module has a replace directive), so the module's
# source is downloaded, copied to a writable directory and `./weed` is built there:
# about 7 minutes cold on 2 cores.
set -euo pipefail
SEAWEEDFS_VERSION="${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
MODULE="github.com/seaweedfs/seaweedfs"
CACHE="${DINAMIS_CACHE:-$HOME/.cache/dinamis}"
DEST="$CACHE/seaweedfs/$SEAWEEDFS_VERSION"
if [ -x "$DEST/weed" ]; then echo "seaweedfs $SEAWEEDFS_VERSION already built in $DEST"; exit 0; fi
command -v go >/dev/null || { echo "go is required to build SeaweedFS" >&2; exit 1; }
mkdir -p "$DEST"
exec 9>"$DEST/.build.lock"
flock 9  # another run is building it: wait, then find it built
if [ -x "$DEST/weed" ]; then echo "seaweedfs $SEAWEEDFS_VERSION built meanwhile in $DEST"; exit 0; fi
WRAP="$DEST/build"
rm -rf "$WRAP"; mkdir -p "$WRAP"; cd "$WRAP"
echo "fetching SeaweedFS $SEAWEEDFS_VERSION from the Go module proxy..."
SRC="$(GOFLAGS=-mod=mod go mod download -json "$MODULE@$SEAWEEDFS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
[ -d "$SRC" ] || { echo "could not download $MODULE@$SEAWEEDFS_VERSION" >&2; exit 1; }
cp -r "$SRC" ./seaweedfs-src
chmod -R u+w ./seaweedfs-src
cd ./seaweedfs-src
echo "building weed (about 7 minutes cold on 2 cores)..."
GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$DEST/weed.tmp" ./weed
mv "$DEST/weed.tmp" "$DEST/weed"
cd "$DEST"; rm -rf "$WRAP"
echo "seaweedfs built: $DEST/weed"
