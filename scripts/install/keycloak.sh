#!/usr/bin/env bash
# Install Keycloak (the Quarkus server distribution, a zip on Maven Central) into
# $DINAMIS_CACHE/keycloak/<version>, checked against Maven Central's SHA-1, and build it once for
# PostgreSQL with health checks so that every start is an optimized one.
# Idempotent: does nothing when it is already there.
set -euo pipefail
KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
CACHE="${DINAMIS_CACHE:-$HOME/.cache/dinamis}"
DEST="$CACHE/keycloak/$KEYCLOAK_VERSION"
if [ -f "$DEST/.complete" ]; then echo "keycloak $KEYCLOAK_VERSION already installed in $DEST"; exit 0; fi
command -v unzip >/dev/null || { apt-get update -qq && apt-get install -y -qq unzip >/dev/null; }
ZIP="$CACHE/keycloak/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
URL="https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/$KEYCLOAK_VERSION/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
mkdir -p "$CACHE/keycloak"
if [ ! -f "$ZIP" ] || [ "$(sha1sum "$ZIP" | cut -d' ' -f1)" != "$(curl -sfL "$URL.sha1" | cut -c1-40)" ]; then
  echo "downloading keycloak $KEYCLOAK_VERSION from Maven Central..."
  curl -sfL -o "$ZIP.part" "$URL"
  [ "$(sha1sum "$ZIP.part" | cut -d' ' -f1)" = "$(curl -sfL "$URL.sha1" | cut -c1-40)" ] || { echo "checksum mismatch" >&2; exit 1; }
  mv "$ZIP.part" "$ZIP"
fi
rm -rf "$DEST" "$DEST.tmp" && mkdir -p "$DEST.tmp"
unzip -q "$ZIP" -d "$DEST.tmp"
mv "$DEST.tmp/keycloak-$KEYCLOAK_VERSION" "$DEST" && rmdir "$DEST.tmp"
echo "building keycloak for PostgreSQL (once)..."
"$DEST/bin/kc.sh" build --db=postgres --health-enabled=true --metrics-enabled=true --cache=local >/dev/null
touch "$DEST/.complete"
echo "keycloak $KEYCLOAK_VERSION installed in $DEST"
