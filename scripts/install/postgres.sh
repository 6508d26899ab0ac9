#!/usr/bin/env bash
# Install PostgreSQL 15 + PostGIS 3 from Debian's packages when missing. Idempotent.
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
if [ ${#need[@]} -eq 0 ]; then echo "postgresql 15 + postgis already installed"; exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing ${need[*]} from Debian..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "postgresql 15 + postgis installed"
