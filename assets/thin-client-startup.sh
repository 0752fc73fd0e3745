#!/bin/sh
# Example startup script for a thin client (e.g. from ~/.xsession or the
# desktop's autostart): the hand-made script perch replaces, in one line.
#
#   before: xrandr --output HDMI2 --right-of HDMI1 --rotate left
#           ssh -Y user@server ./attach.sh   # four `xpra attach :N &`
#
# perch picks the profile from the monitors plugged in ("auto"), arranges
# them, connects, keeps every xpra session attached, and follows the
# monitors as they come and go. `perch status` shows what it is doing.
set -eu
: "${DISPLAY:?this runs inside the X session}"
mkdir -p "${XDG_STATE_HOME:-$HOME/.local/state}/perch"
exec perch up auto >>"${XDG_STATE_HOME:-$HOME/.local/state}/perch/perch.log" 2>&1
