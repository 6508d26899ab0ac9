#!/usr/bin/env bash
# Build FerretDB (MongoDB wire protocol on PostgreSQL) with Go from the module proxy into
# $DINAMIS_CACHE/ferretdb/<version>/ferretdb. Idempotent.
set -euo pipefail
FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
CACHE="${DINAMIS_CACHE:-$HOME/.cache/dinamis}"
DEST="$CACHE/ferretdb/$FERRETDB_VERSION"
if [ -x "$DEST/ferretdb" ]; then echo "ferretdb $FERRETDB_VERSION already built in $DEST"; exit 0; fi
command -v go >/dev/null || { echo "go is required to build FerretDB" >&2; exit 1; }
mkdir -p "$DEST"
WRAP="$DEST/build"
rm -rf "$WRAP"; mkdir -p "$WRAP"; cd "$WRAP"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
go mod init dinamis.local/ferretdb-build >/dev/null 2>&1
echo "fetching FerretDB $FERRETDB_VERSION from the Go module proxy..."
go get "github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION"
SRC="$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)"
cp -r "$SRC" ./ferretdb-src
chmod -R u+w ./ferretdb-src
# the binary panics at start unless build/version/version.txt exists in the source it was built from
mkdir -p ./ferretdb-src/build/version
echo "$FERRETDB_VERSION" > ./ferretdb-src/build/version/version.txt
go mod edit -replace github.com/FerretDB/FerretDB=./ferretdb-src
go mod tidy >/dev/null 2>&1 || true
echo "building FerretDB (about 70 s cold)..."
go build -o "$DEST/ferretdb.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb
mv "$DEST/ferretdb.tmp" "$DEST/ferretdb"
cd "$DEST"; rm -rf "$WRAP"
echo "ferretdb built: $DEST/ferretdb"
