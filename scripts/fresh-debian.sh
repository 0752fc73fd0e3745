#!/usr/bin/env bash
# Checks README's promise on a really fresh machine (issue 20): a minimal
# Debian 12 root made with debootstrap (minbase, plus ca-certificates, git,
# make and sudo: what a new user types the README's commands with), a git
# clone of this repository's HEAD in it, then, inside that root with LANG,
# LC_* and LANGUAGE unset, as in a container or an `env -i` shell:
#   make demo   (installs the packages and Go, builds, runs the demo)
#   make vet
#   the tray tests (TestTrayMenuOverDBus, TestTrayNoOpenGLUntilWindow)
# Each step's time and last lines are printed; the root's demo.png is copied
# out. Not part of `make test`: it needs root and takes minutes.
#
#   sudo scripts/fresh-debian.sh [ROOT]      (default /var/tmp/perch-fresh-debian)
#
# FRESH_EXTRA_CA: a directory of extra certificate authorities the machine
# trusts (default: /usr/local/share/ca-certificates, Debian's local
# certificates directory), copied into the root before its first download.
# Needed only where the registries are reached through such an authority;
# a user's machine does not need it. FRESH_KEEP=1 keeps the root afterwards.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "fresh-debian: run as root (debootstrap, chroot, mounts)" >&2; exit 1; }
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/perch-fresh-debian}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
extra_ca=${FRESH_EXTRA_CA:-/usr/local/share/ca-certificates}

if ! command -v debootstrap >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends debootstrap >/dev/null
fi
step() { printf '\n== %s\n' "$*"; }
t0=$(date +%s)
rm -rf "$root"
step "debootstrap --variant=minbase bookworm $root"
debootstrap --variant=minbase --include=ca-certificates,git,make,sudo bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  { tail -20 "$root.debootstrap.log"; exit 1; }
echo "debootstrap: $(( $(date +%s) - t0 )) s"
if [ -d "$extra_ca" ] && ls "$extra_ca"/*.crt >/dev/null 2>&1; then
  cp "$extra_ca"/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
git clone -q "$repo" "$root/root/perch"
echo "go on the fresh root's PATH: $(chroot "$root" sh -c 'command -v go || echo none')"

# Inside a mount namespace of its own: proc, sys, dev and a tmpfs /tmp and
# /run go away with it.
inside() {
  unshare --mount --fork sh -c '
    r=$1; shift
    mount -t proc proc "$r/proc" && mount -t sysfs sys "$r/sys" &&
    mount --rbind /dev "$r/dev" && mount -t tmpfs tmpfs "$r/tmp" && mount -t tmpfs tmpfs "$r/run" &&
    exec chroot "$r" /usr/bin/env -i HOME=/root USER=root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      sh -c "cd /root/perch && $*"' inside "$root" "$@"
}
rc=0
run() {
  local name=$1; shift
  step "$name"
  local s; s=$(date +%s)
  if inside "$@" >"$root.$name.log" 2>&1; then
    echo "$name: ok in $(( $(date +%s) - s )) s ($(wc -l <"$root.$name.log") lines of output); last lines:"
  else
    echo "$name: FAILED after $(( $(date +%s) - s )) s; last lines:"; rc=1
  fi
  tail -8 "$root.$name.log" | sed 's/^/  | /'
}
run demo "make demo DEMO_ARGS='--for 10s --shot demo.png'"
[ -f "$root/root/perch/demo.png" ] && cp "$root/root/perch/demo.png" "${FRESH_SHOT:-$root.demo.png}" && echo "demo.png copied to ${FRESH_SHOT:-$root.demo.png}"
run vet "make vet"
run tray "PATH=\$(make -s print-go-dir)/bin:\$PATH go test -count=1 -run '^(TestTrayMenuOverDBus|TestTrayNoOpenGLUntilWindow)\$' -v ./cmd/perch-tray"
step "total: $(( $(date +%s) - t0 )) s; logs in $root.*.log"
[ "${FRESH_KEEP:-}" = 1 ] || rm -rf "$root"
exit $rc
