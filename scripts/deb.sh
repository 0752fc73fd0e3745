#!/usr/bin/env bash
# Builds perch_VERSION_ARCH.deb from the built binaries with dpkg-deb:
#
#   scripts/deb.sh VERSION OUTDIR
#
# Reads $BIN/perch and $BIN/perch-tray (BIN=bin/deb from `make deb`), the
# man pages in $BIN/man/ (`make man`), the shell completions from `perch completion
# bash|zsh|fish`, and assets/ (unit, autostart entry, icon, example
# configuration, perch-tray's man page; assets/debian/: control template,
# changelog, copyright).
# A missing piece is an error, never a package without it. perch-tray's
# library dependencies come from dpkg-shlibdeps.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: scripts/deb.sh VERSION OUTDIR}
outdir=${2:?usage: scripts/deb.sh VERSION OUTDIR}
arch=$(dpkg --print-architecture)
bin=${BIN:-bin}

fail() { echo "deb: $*" >&2; exit 1; }

for f in "$bin/perch" "$bin/perch-tray"; do
  [ -x "$f" ] || fail "$f is missing: run make build build-tray first"
done
man_pages=("$bin"/man/*.1)
[ -e "${man_pages[0]}" ] || fail "no man pages in $bin/man/: run make man (the cobra command line generates them)"
for sh in bash zsh fish; do
  "$bin/perch" completion "$sh" >/dev/null 2>&1 ||
    fail "\`$bin/perch completion $sh\` failed: this perch has no completion command (it comes with the cobra command line)"
done
top=$(dpkg-parsechangelog -l assets/debian/changelog -S Version)
[ "$top" = "$version" ] || fail "assets/debian/changelog starts at $top, not $version: add an entry (dch -v $version)"

# Every Go module linked into the binaries is named in the copyright file.
mods=$(go version -m "$bin/perch" "$bin/perch-tray") || fail "go version -m: cannot read the modules linked into $bin/perch and $bin/perch-tray"
for m in $(awk '$1=="dep"{print $2}' <<<"$mods" | sort -u); do
  grep -q "^ *$m " assets/debian/copyright ||
    fail "assets/debian/copyright does not list $m (linked into the binaries): add it with its licence"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
doc=$root/usr/share/doc/perch

for b in perch perch-tray; do
  install -D -m 0755 "$bin/$b" "$root/usr/bin/$b"
  strip --strip-unneeded --remove-section=.comment "$root/usr/bin/$b"
done
# The unit in assets/ runs a perch installed in ~/.local/bin; the package's
# runs /usr/bin/perch.
install -d "$root/usr/lib/systemd/user"
sed 's|%h/\.local/bin/perch|/usr/bin/perch|' assets/perch.service >"$root/usr/lib/systemd/user/perch.service"
grep -q '^ExecStart=/usr/bin/perch ' "$root/usr/lib/systemd/user/perch.service" || fail "assets/perch.service: ExecStart no longer runs %h/.local/bin/perch"
install -D -m 0644 assets/perch-tray.desktop "$root/etc/xdg/autostart/perch-tray.desktop"
# The administrator's configuration, all commented out: a conffile, so that
# an upgrade keeps their edits.
install -D -m 0644 assets/config.system.toml "$root/etc/xdg/perch/config.toml"
install -D -m 0644 assets/perch-tray.desktop "$root/usr/share/applications/io.github.perchdesk.perch.desktop"
install -D -m 0644 assets/icons/perch.png "$root/usr/share/icons/hicolor/256x256/apps/io.github.perchdesk.perch.png"
install -d "$root/usr/share/man/man1"
for m in "${man_pages[@]}" assets/man/perch-tray.1; do
  gzip -9n <"$m" >"$root/usr/share/man/man1/$(basename "$m").gz"
done
install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"
"$bin/perch" completion bash >"$root/usr/share/bash-completion/completions/perch"
"$bin/perch" completion zsh >"$root/usr/share/zsh/vendor-completions/_perch"
"$bin/perch" completion fish >"$root/usr/share/fish/vendor_completions.d/perch.fish"
install -D -m 0644 assets/config.example.toml "$doc/examples/config.example.toml"
install -D -m 0644 assets/thin-client-startup.sh "$doc/examples/thin-client-startup.sh"
install -m 0644 assets/debian/copyright "$doc/copyright"
install -D -m 0644 assets/debian/lintian-overrides "$root/usr/share/lintian/overrides/perch"
gzip -9n <assets/debian/changelog >"$doc/changelog.gz"
gzip -9n <README.md >"$doc/README.md.gz"
find "$root" -type d -exec chmod 0755 {} +
find "$root/usr/share" "$root/etc" -type f -exec chmod 0644 {} +

# The libraries of perch (libc: a PIE, see make deb) and perch-tray (GL,
# X11, libc) from their packages' shlibs.
mkdir -p "$work/src/debian"
printf 'Source: perch\n\nPackage: perch\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O -e"$root/usr/bin/perch" -e"$root/usr/bin/perch-tray" 2>"$work/shlibdeps.log") ||
  { cat "$work/shlibdeps.log" >&2; fail "dpkg-shlibdeps failed on perch or perch-tray"; }
depends=${depends#shlibs:Depends=}
[ -n "$depends" ] || fail "dpkg-shlibdeps found no dependencies"

install -d "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
  assets/debian/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
printf '%s\n' /etc/xdg/autostart/perch-tray.desktop /etc/xdg/perch/config.toml >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums" "$root/DEBIAN/conffiles"

mkdir -p "$outdir"
deb="$outdir/perch_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "deb: $deb"
