#!/usr/bin/env bash
# Installs the Debian packages perch's build, tests, demo and benchmarks need,
# with apt-get, when they are missing. Safe to run again.
set -euo pipefail

packages=(
  # the X servers perch is tested against, and the tools compared with
  xserver-xorg-core xserver-xorg-video-dummy xvfb x11-xserver-utils x11-apps x11-utils xauth xcvt
  # the remote side: OpenSSH and xpra; autossh for the reconnect benchmark
  openssh-server openssh-client xpra autossh
  # xpra only recommends these, but without them a server drops every client
  # (no PIL) and a client cannot draw (no gi-cairo)
  python3-pil python3-gi-cairo
  # the tray tests: a session bus and gdbus; a real panel (its Status Tray
  # plugin) for the one-tray-icon test
  dbus dbus-x11 libglib2.0-bin xfce4-panel
  # network faults and process checks
  iproute2 procps psmisc
  # input injected through XTEST (the follow-me tests)
  xdotool
  # useradd/usermod: the test sshd logs in as an unprivileged user (perchtest)
  passwd
  # the system calls of perch layout save (fsync before and after the rename)
  strace
  # Fyne (cgo, GLFW) for perch-tray; libc6-dev: cgo's headers (gcc only recommends it)
  gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  # the completion tests run bash with bash-completion, as a user has it
  bash-completion
  # the Wayland test: a headless Weston with XWayland
  weston xwayland
  # the layout backends' compositors (GNOME's mutter nested, sway headless)
  # and the tools they are measured against
  mutter sway wlr-randr kanshi
  # benchmarks
  hyperfine
  # the Debian package: dpkg-shlibdeps, lintian, systemd-analyze and desktop-file-validate
  dpkg-dev lintian systemd desktop-file-utils
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages are installed"
  exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# apt's output goes to a log, shown only when it fails.
log=$(mktemp "${TMPDIR:-/tmp}/perch-deps.XXXXXX.log")
if ! { $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q && $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "deps: apt-get failed (log above, kept in $log)" >&2
  exit 1
fi
rm -f "$log"
echo "deps: installed ${#missing[@]} packages"
