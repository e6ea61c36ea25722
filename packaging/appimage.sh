#!/usr/bin/env bash
# Makes dist/HitDesk-<version>-<arch>.AppImage from the one-folder build (dist/hitdesk, `make package`).
#
# Needs appimagetool (https://appimage.github.io/appimagetool/) on PATH or in $APPIMAGETOOL; it is
# not a Debian or PyPI package, so this script does not fetch it. The AppDir follows the AppImage
# layout: AppRun starts the bundled executable, the desktop file and icon sit at the top and in
# usr/share, the AppStream metadata in usr/share/metainfo (appimagetool validates it when
# appstreamcli is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOL=${APPIMAGETOOL:-appimagetool}
if ! command -v "$TOOL" >/dev/null 2>&1; then
    echo "appimage.sh: appimagetool not found; put it on PATH or set APPIMAGETOOL=/path/to/appimagetool" >&2
    exit 1
fi
if [ ! -x dist/hitdesk/hitdesk ]; then
    echo "appimage.sh: dist/hitdesk is missing; run 'make package' first" >&2
    exit 1
fi
PYTHON=${PYTHON:-.venv/bin/python}
version=$(PYTHONPATH="$PWD" "$PYTHON" -c "import hitdesk; print(hitdesk.__version__)" 2>/dev/null \
    || sed -n 's/^__version__ = "\(.*\)"/\1/p' hitdesk/__init__.py)
arch=$(uname -m)
appdir=build/HitDesk.AppDir
metainfo=$(ls resources/*.metainfo.xml)

rm -rf "$appdir"
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications" "$appdir/usr/share/metainfo"
cp -a dist/hitdesk "$appdir/usr/lib/hitdesk"
cp resources/hitdesk.desktop "$appdir/hitdesk.desktop"
cp resources/hitdesk.desktop "$appdir/usr/share/applications/hitdesk.desktop"
cp "$metainfo" "$appdir/usr/share/metainfo/"
cp -r resources/icons "$appdir/usr/share/"
cp resources/icons/hicolor/256x256/apps/hitdesk.png "$appdir/hitdesk.png"
ln -s hitdesk.png "$appdir/.DirIcon"
cat > "$appdir/AppRun" <<'EOF'
#!/bin/sh
# Runs the bundled hitdesk; with no arguments it opens the app, as the desktop entry does.
here=$(dirname "$(readlink -f "$0")")
exec "$here/usr/lib/hitdesk/hitdesk" "$@"
EOF
chmod +x "$appdir/AppRun"

out="dist/HitDesk-${version}-${arch}.AppImage"
ARCH="$arch" "$TOOL" "$appdir" "$out"
echo "wrote $out ($(du -sh "$out" | cut -f1))"
