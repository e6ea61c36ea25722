# The two commands a fresh machine needs: `make run` (the main job) and `make test`.
# Both set everything up first: Debian packages where apt-get is available, a virtualenv, the package.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
CORPUS ?= $(SHARED)/corpus
ZALO ?= $(SHARED)/data/zalo2019
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev
DEB_PACKAGES := libportaudio2 libsndfile1 xvfb xauth libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 \
	libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 \
	libxcb-randr0 libxcb-render-util0 libxcb-image0 pulseaudio pulseaudio-utils libasound2-plugins \
	desktop-file-utils appstream time

.PHONY: setup setup-dev system-deps run demo test lint typecheck pytest pytest-slow model window-shift bench fuzz package package-test \
	appimage licenses icons clean

# `setup` is what the app needs (no torch, no librosa); `setup-dev` adds training and the test tools.
setup: $(APP_STAMP)

setup-dev: $(DEV_STAMP)

system-deps:
	@bash packaging/install-system-deps.sh $(DEB_PACKAGES)

$(VENV)/bin/python:
	@$(MAKE) --no-print-directory system-deps
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $(APP_STAMP)

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[train,dev,scale]'
	@touch $(APP_STAMP) $(DEV_STAMP)

# The main job: the app where there is a display; on a headless machine a demo analysis.
run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && $(BIN)/python -c "import hitdesk.ui" 2>/dev/null; then \
		$(BIN)/hitdesk gui; \
	else \
		$(MAKE) --no-print-directory demo; \
	fi

demo: setup
	@echo "No display: analysing the bundled clips$(if $(wildcard $(CORPUS)), and $(CORPUS),) headless."
	$(BIN)/hitdesk analyze tests/data $(wildcard $(CORPUS)/chaos_god-mix.ogg $(CORPUS)/chaos_god-guitar.ogg $(CORPUS)/forest-sprint.m4a)

test: setup-dev lint typecheck pytest

lint:
	$(BIN)/ruff check hitdesk tests bench packaging
	$(BIN)/ruff format --check hitdesk tests bench packaging

typecheck:
	$(BIN)/mypy

# A temporary folder of the run's own: pytest's shared numbered folders are scanned and pruned by
# every concurrent run, which can leave a directory iterator open in another's process.
pytest:
	HITDESK_SHARED=$(SHARED) $(BIN)/python -m pytest -q --basetemp="$$(mktemp -d "$${TMPDIR:-/tmp}/hitdesk-pytest-XXXXXX")"

# Only the tests marked slow (a minute or more each on a busy machine; `pytest` runs them too).
pytest-slow:
	$(BIN)/python -m pytest -q -m slow --basetemp="$$(mktemp -d "$${TMPDIR:-/tmp}/hitdesk-pytest-XXXXXX")"

# Retrain the default model from the chart data (artist-disjoint CV report in reports/).
model: setup-dev
	$(BIN)/hitdesk-train fit --recipe zalo-stats --data $(ZALO) --out models --report reports/zalo-default.md

# Re-measure how 30 s window statistics differ from whole-track statistics on real music.
window-shift: setup-dev
	$(BIN)/hitdesk-train measure-window-shift --corpus $(CORPUS)

bench: setup-dev
	$(BIN)/python bench/bench_analyze.py --corpus $(CORPUS)
	$(BIN)/python bench/bench_cli.py --corpus $(CORPUS)
	$(BIN)/python bench/fast_agreement.py --corpus $(CORPUS)
	$(BIN)/python bench/bench_gui.py
	$(BIN)/python bench/bench_compare.py --corpus $(CORPUS)
	$(BIN)/python bench/bench_record.py
	$(BIN)/python bench/bench_memory.py
	$(BIN)/python bench/bench_batch.py --corpus $(CORPUS)

# The one-folder app in dist/hitdesk and dist/hitdesk-<version>-linux-<arch>.tar.gz (PyInstaller; a few minutes).
package: setup-dev
	PYTHON=$(BIN)/python nice -n 10 bash packaging/build.sh

# Build, then start the built app headless, analyse a corpus file with it and check its output and log.
package-test: package
	$(BIN)/python packaging/smoke_test.py --corpus $(CORPUS)

# An AppImage from the build, where appimagetool is installed (see packaging/README.md).
appimage: package
	PYTHON=$(BIN)/python bash packaging/appimage.sh

# THIRD_PARTY_LICENSES from the installed packages' metadata (the build regenerates the bundle's copy).
licenses: setup-dev
	$(BIN)/python packaging/third_party_licenses.py

# PNG icons from resources/hitdesk.svg.
icons: setup-dev
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/make_icons.py

# Fuzz the decoder path for a bounded time (FUZZ_SECONDS); failing files are kept in out/fuzz.
FUZZ_SECONDS ?= 600
fuzz: setup-dev
	$(BIN)/python bench/fuzz_decode.py --seconds $(FUZZ_SECONDS) --out out/fuzz

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
