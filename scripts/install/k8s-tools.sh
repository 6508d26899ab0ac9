#!/usr/bin/env bash
# kustomize and kubeconform (the offline validation of deploy/k8s in `make test`), built with Go from
# the module proxy into $DINAMIS_CACHE/k8s-tools/bin. Idempotent; nothing to do once both are there.
set -euo pipefail
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.7.1}"      # v5.8 needs Go 1.27
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.7.0}"
CACHE="${DINAMIS_CACHE:-$HOME/.cache/dinamis}"
BIN="$CACHE/k8s-tools/bin"
mkdir -p "$BIN"
install_tool() {  # name, module path, version
  local name="$1" pkg="$2" version="$3" dest="$BIN/$1-$3"
  if [ -x "$dest" ]; then echo "$name $version already built in $dest"; else
    command -v go >/dev/null || { echo "go is required to build $name" >&2; exit 1; }
    echo "building $name $version from the Go module proxy..."
    local gobin; gobin="$(mktemp -d)"
    GOBIN="$gobin" GOFLAGS=-buildvcs=false go install "$pkg@$version"
    mv "$gobin/$name" "$dest"; rmdir "$gobin"
  fi
  ln -sf "$dest" "$BIN/$name"
}
install_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
install_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
