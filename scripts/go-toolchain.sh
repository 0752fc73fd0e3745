#!/usr/bin/env bash
# Makes sure a Go at least as new as go.mod's is there for the Makefile.
# When none is on PATH (a fresh Debian machine has none, and Debian 12's own
# golang-go is 1.19), it takes go.mod's exact release from the Go module
# proxy as the module golang.org/toolchain, checksum-verified by Go against
# sum.golang.org, as Go 1.21+'s own GOTOOLCHAIN switching does, using
# Debian's golang-go only to fetch it. The result goes to $PERCH_GO_DIR
# (default ~/.cache/perch/go<version>), which the Makefile puts first on its
# PATH. Nothing else is downloaded, and no shell profile is changed.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(sed -n 's/^go \([0-9.]*\).*/\1/p' go.mod)
dir=${PERCH_GO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perch/go$want}

# newer A B: is version A at least version B (1.26.8 >= 1.26.0)?
newer() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }
version_of() { "$1" env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9.]*\).*/\1/p'; }

for g in "$dir/bin/go" "$(command -v go 2>/dev/null || true)"; do
  [ -n "$g" ] && [ -x "$g" ] || continue
  have=$(GOTOOLCHAIN=local version_of "$g")
  if [ -n "$have" ] && newer "$have" "$want"; then
    echo "go: $g is go$have (go.mod wants $want or newer)"
    exit 0
  fi
done

case "$(uname -m)" in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l|armv6l) arch=armv6l ;; i?86) arch=386 ;;
  *) echo "go: no Go toolchain for $(uname -m); install Go $want or newer from https://go.dev/dl" >&2; exit 1 ;;
esac

bootstrap=$(command -v go 2>/dev/null || true)
if [ -z "$bootstrap" ]; then
  echo "go: no Go on PATH; installing Debian's golang-go to fetch Go $want with it"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  log=$(mktemp "${TMPDIR:-/tmp}/perch-go.XXXXXX.log")
  if ! { $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends golang-go ca-certificates; } >"$log" 2>&1; then
    cat "$log" >&2; echo "go: apt-get failed (log above, kept in $log)" >&2; exit 1
  fi
  rm -f "$log"
  bootstrap=$(command -v go)
fi

mod=golang.org/toolchain@v0.0.1-go$want.linux-$arch
echo "go: fetching Go $want ($mod) from the Go module proxy into $dir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/perch-go.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# An empty GOFLAGS and GOTOOLCHAIN=local: the bootstrap Go does only this download.
(cd "$tmp" && GOPATH=$tmp/gopath GOMODCACHE=$tmp/gopath/pkg/mod GOFLAGS= GOTOOLCHAIN=local \
  "$bootstrap" mod download "$mod")
src=$tmp/gopath/pkg/mod/$mod
[ -x "$src/bin/go" ] || [ -f "$src/bin/go" ] || { echo "go: $mod has no bin/go" >&2; exit 1; }
mkdir -p "$(dirname "$dir")"
rm -rf "$dir.partial"
cp -R "$src" "$dir.partial"
chmod -R u+w "$dir.partial"
# Module zips carry no exec bits: give them back to the programs.
chmod 755 "$dir.partial"/bin/* "$dir.partial"/pkg/tool/*/*
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "go: $("$dir/bin/go" version) in $dir (the Makefile puts $dir/bin first on its PATH)"
