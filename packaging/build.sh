#!/usr/bin/env bash
# Builds the one-folder app (dist/hitdesk/) with PyInstaller and the release archive
# dist/hitdesk-<version>-linux-<arch>.tar.gz. Run from anywhere; `make package` calls it.
#
# PYTHON: the interpreter of the environment to bundle (default .venv/bin/python, as `make setup` makes
# it). PyInstaller is installed into that environment if it is missing: it bundles what that
# environment has, so it must run there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
if [ ! -x "$PYTHON" ] && ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "build.sh: no Python at $PYTHON; run 'make setup' first or set PYTHON" >&2
    exit 1
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "Installing PyInstaller into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    "$PYTHON" -m pip install --quiet "pyinstaller>=6.10"
fi
# This checkout's hitdesk, whatever the environment has installed (the spec puts it first as well).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
version=$("$PYTHON" -c "import hitdesk; print(hitdesk.__version__)")
arch=$(uname -m)
os=$(uname -s | tr '[:upper:]' '[:lower:]')

start=$(date +%s)
rm -rf dist/hitdesk
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/hitdesk.spec
echo "built dist/hitdesk in $(($(date +%s) - start)) s"

archive="dist/hitdesk-${version}-${os}-${arch}.tar.gz"
tar -C dist -czf "$archive" hitdesk
echo "folder:  dist/hitdesk  $(du -sh dist/hitdesk | cut -f1)"
echo "archive: $archive  $(du -sh "$archive" | cut -f1)"
