"""The settings table (hitdesk.settings_schema), without Qt: every setting declared once, with a type,
a default inside its range and a one-line description; values read back as their type; the
migration from the keys and values of settings files written before versions were kept."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hitdesk import settings_schema as schema
from hitdesk.settings_schema import SETTINGS, SETTINGS_VERSION, VERSION_KEY, migrate, setting

REPO = Path(__file__).resolve().parents[2]


class DictStore:
    """A settings store as QSettings behaves with an INI file: scalars come back as strings."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values = dict(values or {})

    def value(self, key: str) -> Any:
        return self.values.get(key)

    def setValue(self, key: str, value: Any) -> None:  # noqa: N802  (QSettings's name)
        self.values[key] = value

    def remove(self, key: str) -> None:
        self.values.pop(key, None)

    def contains(self, key: str) -> bool:
        return key in self.values


def test_every_setting_is_declared_once_with_a_sensible_default_and_one_line() -> None:
    keys = [s.key for s in SETTINGS]
    assert len(keys) == len(set(keys))
    for s in SETTINGS:
        assert s.description.endswith(".") and "\n" not in s.description and len(s.description) <= 110, s.key
        default = s.default_value()
        if s.optional or s.kind == "bytes":
            assert default is None, s.key
            continue
        assert s.parse(default) == default, s.key  # the default is inside its own range and choices
        if s.choices:
            assert default in s.choices, s.key


def test_the_table_needs_no_qt() -> None:
    code = "import sys, hitdesk.settings_schema; print('PySide6' in sys.modules, 'torch' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_cores_used_defaults_to_the_cores_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    assert setting("analysis/cores").default_value() == len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    if not hasattr(os, "process_cpu_count"):  # Python 3.13 answers from the same affinity mask
        assert schema.machine_cores() == 3


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("analysis/fast", "true", True),
        ("analysis/fast", "false", False),
        ("analysis/fast", "perhaps", False),
        ("analysis/cores", "3", 3),
        ("analysis/cores", "0", 1),  # below the range: clamped
        ("analysis/cores", "2.5", None),  # not a whole number: the default
        ("view/dbRange", "500", 120),
        ("view/dbRange", "-3", 20),
        ("view/dbRange", "nan", 80),
        ("view/colourMap", "rainbow", "viridis"),  # not one of the choices
        ("view/colourMap", "magma", "magma"),
        ("analysis/windowSeconds", "", None),  # unset: the model card's length
        ("analysis/windowSeconds", "10.5", 10.5),
        ("analysis/windowSeconds", "1", 3.0),
        ("analysis/windowSeconds", "inf", None),
        ("files/recent", "/a.wav", ["/a.wav"]),  # INI gives one entry back as a string
        ("files/recent", [f"/{i}.wav" for i in range(15)], [f"/{i}.wav" for i in range(10)]),
        ("record/pruneDays", "-1", 0),
    ],
)
def test_values_are_read_as_their_type_and_inside_their_range(key: str, raw: Any, expected: Any) -> None:
    s = setting(key)
    assert s.parse(raw) == (s.default_value() if expected is None and not s.optional else expected)


def test_only_values_other_than_the_default_are_stored() -> None:
    store = DictStore()
    cores = setting("analysis/cores")
    cores.write(store, cores.default_value())
    assert not store.contains("analysis/cores")  # follows the machine until the user chooses
    cores.write(store, cores.default_value() + 1)
    assert store.value("analysis/cores") == cores.default_value() + 1
    cores.write(store, cores.default_value())
    assert not store.contains("analysis/cores")
    setting("analysis/windowSeconds").write(store, None)
    assert not store.contains("analysis/windowSeconds")


def _v1_store(workers: int) -> DictStore:
    """What HitDesk stored before settings had a version (as read back from its INI file)."""
    return DictStore(
        {
            "analysis/fast": "true",
            "analysis/windowSeconds": "",
            "analysis/workers": str(workers),
            "files/folder/export": "/music/exports",
            "files/folder/png": "",
            "files/folder/session": "",
            "files/lastFolder": "/music/mixes",
            "model/spec": "hitdesk-zalo-v2",
            "view/dbRange": "60",
        }
    )


def test_a_file_from_before_versions_keeps_every_value_the_user_chose() -> None:
    chosen = schema.machine_cores() + 3
    store = _v1_store(chosen)
    assert migrate(store) == 1
    assert store.value(VERSION_KEY) == SETTINGS_VERSION
    assert setting("analysis/cores").read(store) == chosen
    assert not store.contains("analysis/workers")
    assert setting("analysis/fast").read(store) is True
    assert setting("analysis/windowSeconds").read(store) is None
    assert setting("view/dbRange").read(store) == 60
    assert setting("files/folder/export").read(store) == "/music/exports"
    assert not store.contains("files/folder/png") and not store.contains("analysis/windowSeconds")
    before = dict(store.values)
    store.setValue = None  # type: ignore[assignment,method-assign]  # a second run writes nothing at all
    assert migrate(store) == SETTINGS_VERSION and store.values == before


def test_cores_saved_as_the_machines_count_follow_the_machine_from_then_on() -> None:
    store = _v1_store(schema.machine_cores())
    migrate(store)
    assert not store.contains("analysis/cores") and not store.contains("analysis/workers")
    assert setting("analysis/cores").read(store) == schema.machine_cores()


def test_a_damaged_workers_value_is_dropped_not_carried() -> None:
    store = _v1_store(0)
    store.values["analysis/workers"] = "lots"
    migrate(store)
    assert not store.contains("analysis/cores")


def test_a_file_from_a_newer_hitdesk_is_read_but_not_rewritten() -> None:
    store = DictStore({VERSION_KEY: str(SETTINGS_VERSION + 1), "view/dbRange": "40", "future/key": "x"})
    assert migrate(store) == SETTINGS_VERSION + 1
    assert store.value(VERSION_KEY) == str(SETTINGS_VERSION + 1) and store.value("future/key") == "x"
    assert setting("view/dbRange").read(store) == 40


def test_there_is_a_migration_for_every_older_version() -> None:
    assert sorted(schema.MIGRATIONS) == list(range(1, SETTINGS_VERSION))


def test_no_settings_key_is_written_or_read_outside_the_table() -> None:
    """Every string key passed to ``value``/``setValue`` in the app is a declared setting (the
    migration reads the old keys it moves)."""
    declared = {s.key for s in SETTINGS} | {VERSION_KEY}
    old_keys = {"analysis/workers"}
    for path in (REPO / "hitdesk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("value", "setValue", "remove", "contains") or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and "/" in first.value:
                allowed = declared | (old_keys if path.name == "settings_schema.py" else set())
                assert first.value in allowed, f"{path.relative_to(REPO)}: {first.value}"
    for name in ("QSettings",):
        users = [
            p.relative_to(REPO).as_posix()
            for p in (REPO / "hitdesk").rglob("*.py")
            if name in p.read_text(encoding="utf-8") and p.name != "settings_schema.py"
        ]
        assert set(users) <= {"hitdesk/ui/settings.py", "hitdesk/ui/main_window.py"}, users


def test_the_readme_lists_the_settings_as_the_table_declares_them() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert schema.markdown_table() in text
