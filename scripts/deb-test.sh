#!/usr/bin/env bash
# Tests the Debian package built by `make deb`: lintian (no errors), then
# installs it with dpkg -i, runs the installed perch, verifies the installed
# systemd user unit and autostart entry, and purges the package again.
#
#   scripts/deb-test.sh bin/perch_VERSION_ARCH.deb
set -euo pipefail
deb=${1:?usage: scripts/deb-test.sh PACKAGE.deb}
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
fail() { echo "deb-test: $*" >&2; exit 1; }

echo "deb-test: lintian $deb"
# lintian leaves a file (mldbm-elf-*) in TMPDIR: give it one of its own.
lt=$(mktemp -d)
TMPDIR=$lt lintian --fail-on error --tag-display-limit 0 "$deb" || { rm -rf "$lt"; fail "lintian reports errors (above)"; }
rm -rf "$lt"

if dpkg-query -W -f='${Status}' perch 2>/dev/null | grep -q "install ok installed"; then
  fail "a perch package is installed already: this test installs and removes its own (dpkg --purge perch first)"
fi
trap '$SUDO dpkg --purge perch >/dev/null || echo "deb-test: dpkg --purge perch failed" >&2' EXIT
$SUDO dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb failed"

for f in /usr/bin/perch /usr/bin/perch-tray; do
  [ -x "$f" ] || fail "$f is not installed"
done
for f in /usr/lib/systemd/user/perch.service /etc/xdg/autostart/perch-tray.desktop \
  /usr/share/applications/io.github.perchdesk.perch.desktop \
  /usr/share/icons/hicolor/256x256/apps/io.github.perchdesk.perch.png \
  /usr/share/man/man1/perch.1.gz /usr/share/bash-completion/completions/perch \
  /usr/share/zsh/vendor-completions/_perch /usr/share/fish/vendor_completions.d/perch.fish \
  /usr/share/doc/perch/copyright /usr/share/doc/perch/examples/config.example.toml \
  /etc/xdg/perch/config.toml; do
  [ -s "$f" ] || fail "$f is missing or empty in the installed package"
done
out=$(/usr/bin/perch version) || fail "/usr/bin/perch version failed"
echo "deb-test: /usr/bin/perch version: $out"
pkgver=$(dpkg-deb -f "$deb" Version)
case "$out" in "perch $pkgver "*) ;; *) fail "perch version says \"$out\", not the package's version $pkgver" ;; esac
# Each man page has its own title (perch-up.1: PERCH-UP), and there is no
# page for PowerShell on a Debian system.
for m in /usr/share/man/man1/perch*.1.gz; do
  name=$(basename "$m" .1.gz)
  case "$name" in *powershell*) fail "the package ships $m: no PowerShell on Debian" ;; esac
  [ "$name" = perch-tray ] && continue
  title=$(zcat "$m" | sed -n 's/^\.TH "\([^"]*\)".*/\1/p')
  [ "$title" = "$(echo "$name" | tr a-z A-Z)" ] || fail "$m has the title \"$title\", not $(echo "$name" | tr a-z A-Z)"
done
# The unit runs the installed binary, and systemd accepts it.
grep -q '^ExecStart=/usr/bin/perch up ' /usr/lib/systemd/user/perch.service || fail "perch.service does not run /usr/bin/perch"
rt=$(mktemp -d)
XDG_RUNTIME_DIR=$rt systemd-analyze --user verify /usr/lib/systemd/user/perch.service ||
  { rm -rf "$rt"; fail "systemd-analyze --user verify rejects the installed perch.service"; }
rm -rf "$rt"
desktop-file-validate /etc/xdg/autostart/perch-tray.desktop || fail "desktop-file-validate rejects the autostart entry"
# The administrator's example: a conffile, root's, read under the user's
# file and setting nothing.
dpkg-query -W -f='${Conffiles}' perch | grep -q ' /etc/xdg/perch/config.toml ' || fail "/etc/xdg/perch/config.toml is not a conffile"
[ "$(stat -c %U:%a /etc/xdg/perch/config.toml)" = root:644 ] || fail "/etc/xdg/perch/config.toml is not root's 0644"
cfg=$(mktemp)
printf '[profile.here]\n' >"$cfg"
out=$(XDG_CONFIG_DIRS= /usr/bin/perch --config "$cfg" check) || { rm -f "$cfg"; fail "perch check with the installed system file failed: $out"; }
rm -f "$cfg"
grep -q '^  from /etc/xdg/perch/config.toml: nothing$' <<<"$out" || fail "perch check did not read the installed system file as empty: $out"
echo "deb-test: ok"
