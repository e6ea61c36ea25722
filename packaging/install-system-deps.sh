#!/usr/bin/env bash
# Installs the Debian packages HitDesk needs (PortAudio, Qt's X11/EGL libraries, Xvfb, PulseAudio for
# the virtual sound device the tests use) where apt-get is available; elsewhere says what is missing.
set -u
missing=()
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: not a Debian system; install these or their equivalents yourself: ${missing[*]}" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "note: not root and no sudo; install these yourself: ${missing[*]}" >&2
        exit 0
    fi
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || echo "warning: apt-get update failed" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "warning: could not install all of: ${missing[*]}" >&2
exit 0
