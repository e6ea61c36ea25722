"""Packaging without building: --version, desktop entry, AppStream metadata, icons, About dialog,
the PyInstaller spec's exclusions and THIRD_PARTY_LICENSES.

Building and running the bundle takes minutes and is ``make package-test`` (packaging/smoke_test.py).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import ast
import configparser
import importlib.util
import json
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import hitdesk
from hitdesk.model.card import load_card
from hitdesk.model.runtime import DEFAULT_MODEL_NAME
from hitdesk.paths import models_dir
from hitdesk.ui.main_window import MainWindow
from hitdesk.versions import version_text

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "resources"
SPEC = REPO / "packaging" / "hitdesk.spec"
DESKTOP = RESOURCES / "hitdesk.desktop"
REQUIRED_MIME = {
    "audio/wav",
    "audio/x-wav",
    "audio/flac",
    "audio/ogg",
    "audio/x-vorbis+ogg",
    "audio/opus",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
    "audio/x-aiff",
}


def _metainfo() -> Path:
    files = sorted(RESOURCES.glob("*.metainfo.xml"))
    assert len(files) == 1, files
    return files[0]


def _licences_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "third_party_licenses", REPO / "packaging" / "third_party_licenses.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["third_party_licenses"] = module
    spec.loader.exec_module(module)
    return module


def _child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


# ---------------------------------------------------------------------------------------------- --version


def test_version_names_package_model_and_python_without_importing_qt() -> None:
    card = json.loads((models_dir() / f"{DEFAULT_MODEL_NAME}.json").read_text(encoding="utf-8"))
    proc = subprocess.run(
        [sys.executable, "-m", "hitdesk", "--version"], env=_child_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"hitdesk {hitdesk.__version__}"
    assert lines[1] == f"model {card['name']} {card['version']}"
    assert lines[2].startswith(f"Python {sys.version_info[0]}.{sys.version_info[1]}.")
    assert not any(line.startswith("Qt") for line in lines)  # Qt is not loaded by the command line
    probe = "import sys; from hitdesk.versions import version_text; version_text(); print('PySide6' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", probe], env=_child_env(), capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_version_names_qt_once_the_app_has_loaded_it() -> None:
    from PySide6 import QtCore

    assert f"Qt {QtCore.qVersion()}" in version_text()


def test_version_says_when_the_bundled_model_is_damaged(tmp_path: Path) -> None:
    (tmp_path / f"{DEFAULT_MODEL_NAME}.json").write_text("{not json", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "hitdesk", "--version"],
        env=_child_env(HITDESK_MODELS_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert f"model {DEFAULT_MODEL_NAME} (not usable: " in proc.stdout
    assert "damaged or not JSON" in proc.stdout


# ---------------------------------------------------------------------------------------------- desktop entry


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_keys_and_audio_types() -> None:
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "HitDesk"
    assert entry["Exec"].split()[0] == "hitdesk" and "%F" in entry["Exec"].split()
    assert entry["Icon"] == "hitdesk" and (RESOURCES / "hitdesk.svg").is_file()
    assert entry["Terminal"] == "false"
    assert {"AudioVideo", "Audio", "Music"} <= set(filter(None, entry["Categories"].split(";")))
    mime = [m for m in entry["MimeType"].split(";") if m]
    assert entry["MimeType"].endswith(";")
    assert set(mime) >= REQUIRED_MIME, REQUIRED_MIME - set(mime)
    assert all(m.startswith("audio/") for m in mime) and len(mime) == len(set(mime))


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-validate not installed")
def test_desktop_entry_passes_desktop_file_validate() -> None:
    proc = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_icons_in_every_size_the_theme_layout_names() -> None:
    sizes = sorted((RESOURCES / "icons" / "hicolor").glob("*x*/apps/hitdesk.png"))
    assert {p.parts[-3] for p in sizes} >= {"16x16", "32x32", "48x48", "64x64", "128x128", "256x256"}
    for path in sizes:
        n = int(path.parts[-3].split("x")[0])
        assert _png_size(path) == (n, n)


# ---------------------------------------------------------------------------------------------- AppStream


def test_metainfo_has_the_required_appstream_tags() -> None:
    path = _metainfo()
    root = ET.parse(path).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    cid = root.findtext("id")
    assert cid and path.name == f"{cid}.metainfo.xml"
    for tag in ("name", "summary", "metadata_license", "project_license"):
        assert (root.findtext(tag) or "").strip(), tag
    assert root.findtext("project_license") == "GPL-3.0-or-later"
    description = root.find("description")
    assert description is not None and len(description.findall("p")) >= 1
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.findtext("provides/binary") == "hitdesk"
    desktop_types = set(filter(None, _desktop_entry()["MimeType"].split(";")))
    assert {m.text for m in root.findall("provides/mediatype")} <= desktop_types
    assert root.findtext("supports/internet") == "offline-only"
    releases = root.findall("releases/release")
    assert releases and releases[0].get("version") == hitdesk.__version__  # newest release first
    assert root.find("content_rating") is not None


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli not installed")
def test_metainfo_passes_appstreamcli_validate() -> None:
    proc = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(_metainfo())], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "E:" not in proc.stdout and "W:" not in proc.stdout, proc.stdout


# ---------------------------------------------------------------------------------------------- spec file


def _spec_value(name: str) -> object:
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not assigned in {SPEC}")


def test_spec_excludes_torch_training_and_test_only_libraries() -> None:
    excludes = _spec_value("EXCLUDES")
    assert isinstance(excludes, list)
    for name in ("torch", "hitdesk.training", "librosa", "numba", "matplotlib", "tests", "pytest", "ray"):
        assert name in excludes, name
    text = SPEC.read_text(encoding="utf-8")
    assert "NSMicrophoneUsageDescription" in text
    assert "rthook_portaudio.py" in text and (REPO / "packaging" / "rthook_portaudio.py").is_file()


def test_runtime_hook_points_sounddevice_at_the_bundled_portaudio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctypes.util
    import runpy

    bundled = tmp_path / "libportaudio.so.2"
    bundled.write_bytes(b"")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"system-{name}")
    runpy.run_path(str(REPO / "packaging" / "rthook_portaudio.py"))
    assert ctypes.util.find_library("portaudio") == str(bundled)
    assert ctypes.util.find_library("sndfile") == "system-sndfile"  # every other look-up unchanged
    bundled.unlink()
    assert ctypes.util.find_library("portaudio") == "system-portaudio"  # nothing bundled: the system's


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def test_nothing_the_app_imports_is_excluded_from_the_bundle() -> None:
    """Every import in the shipped code, lazy ones included, is something the spec bundles."""
    excluded = _spec_value("EXCLUDES")
    assert isinstance(excluded, list)
    excludes = set(excluded)
    qt_used = _spec_value("QT_MODULES_USED")
    assert isinstance(qt_used, set)
    # Training and batch (hitdesk/batch/ and the command's hitdesk/cli/batch.py) are for pip installs.
    shipped = [
        p
        for p in (REPO / "hitdesk").rglob("*.py")
        if not {"training", "batch"} & set(p.relative_to(REPO).with_suffix("").parts)
    ]
    assert len(shipped) > 20
    for path in shipped:
        for name in _imports(path):
            parts = name.split(".")
            prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
            assert not prefixes & excludes, f"{path.relative_to(REPO)} imports {name}, which the bundle leaves out"
            if parts[0] == "PySide6" and len(parts) > 1 and parts[1].startswith("Qt"):
                assert parts[1] in qt_used, f"{path.relative_to(REPO)} uses {parts[1]}; add it to QT_MODULES_USED"


# ---------------------------------------------------------------------------------------------- licences


def test_third_party_licenses_lists_every_runtime_dependency() -> None:
    """Names, not versions: a fresh environment may resolve newer versions (the build regenerates the file)."""
    module = _licences_module()
    dists, left_out = module.runtime_distributions(REPO / "pyproject.toml", module.spec_excludes(SPEC))
    text = (REPO / "THIRD_PARTY_LICENSES").read_text(encoding="utf-8")
    listed = {line.split()[0].lower().replace("_", "-") for line in text.splitlines() if line and line[0].isalnum()}
    expected = {str(d.metadata["Name"]).lower().replace("_", "-") for d in dists.values()}
    assert {"onnxruntime", "numpy", "pyside6-essentials", "av", "soundfile", "sounddevice"} <= expected
    assert expected <= listed, expected - listed
    for native in ("python", "qt", "ffmpeg", "libsndfile", "portaudio"):
        assert native in listed, native
    assert "librosa" not in expected and "librosa" not in listed  # a training extra, not in the bundle
    assert left_out == [] or all(isinstance(name, str) for name in left_out)
    for line in text.splitlines():
        if line and line[0].isalnum() and line.split()[0].lower().replace("_", "-") in expected:
            assert len(line.split()) >= 3, f"no licence on: {line}"


def test_bundle_licences_carry_the_texts(tmp_path: Path) -> None:
    module = _licences_module()
    # charset_normalizer stands for a package collected through optional code, outside the dependencies.
    bundled = ["numpy", "charset_normalizer", "librosa", "hitdesk"]
    listing = module.write_bundle_licenses(
        tmp_path / "lic", REPO / "pyproject.toml", module.spec_excludes(SPEC), bundled
    )
    text = listing.read_text(encoding="utf-8")
    assert text.startswith("HitDesk bundles")
    names = {line.split()[0] for line in text.splitlines() if line and line[0].isalnum()}
    if importlib.util.find_spec("charset_normalizer") is not None:
        assert "charset-normalizer" in names
    assert "librosa" not in names  # excluded from the bundle, whatever the analysis reports
    assert "hitdesk" not in names  # not a third party
    texts = tmp_path / "lic" / "licenses"
    assert any((texts / "numpy").iterdir()) and any((texts / "onnxruntime").iterdir())
    assert (texts / "PySide6_Essentials" / "LGPL-3").is_file() or not Path("/usr/share/common-licenses/LGPL-3").exists()
    assert any(texts.glob("libsndfile/*"))


# ---------------------------------------------------------------------------------------------- About dialog


def test_about_dialog_shows_versions_model_provenance_and_licences(qtbot: object, window: MainWindow) -> None:
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert window.action_map["about"] in help_menu.actions()  # type: ignore[union-attr,attr-defined]
    window.action_map["about"].trigger()  # Help ▸ About HitDesk
    dialog = window._about_dialog
    assert dialog is not None and dialog.isVisible()

    versions = dict(dialog.versions)
    assert versions["HitDesk"] == hitdesk.__version__
    for name in ("Python", "PySide6", "Qt", "onnxruntime", "NumPy", "PyAV", "FFmpeg", "libsndfile", "PortAudio"):
        assert name in versions and not versions[name].startswith("not available"), (name, versions.get(name))
        assert any(ch.isdigit() for ch in versions[name])
    shown = dialog.page_text("versions")
    assert f"HitDesk\t{hitdesk.__version__}" in shown or f"HitDesk {hitdesk.__version__}" in shown.replace("\n", " ")
    from PySide6 import QtCore

    assert QtCore.qVersion() in shown

    card = load_card(models_dir() / f"{DEFAULT_MODEL_NAME}.json")
    model_text = dialog.page_text("model")
    provenance = card.training_data["provenance"]
    assert card.name in model_text and card.label_definition in model_text
    assert provenance["terms"] in model_text  # "published for research use; no licence is stated"
    assert provenance["challenge"] in model_text and card.training_data["market"] in model_text

    licences = dialog.page_text("licences")
    assert "PySide6_Essentials" in licences and "onnxruntime" in licences and "PortAudio" in licences
    dialog.close()


def test_about_dialog_without_a_model(qtbot: object) -> None:
    from hitdesk.ui.about import AboutDialog

    dialog = AboutDialog(None)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    assert "No model loaded" in dialog.page_text("model")
    assert "GNU General Public License" in dialog.page_text("about")
