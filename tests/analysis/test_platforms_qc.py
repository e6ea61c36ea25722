"""Streaming platform presets (their gains and the user's TOML file) and QC profiles (built in, the
user's own, and their pass/warn/fail reasons), on result dicts as ``hitdesk analyze`` prints them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hitdesk import paths
from hitdesk.errors import SettingsFileError
from hitdesk.platforms import BUILT_IN, Platform, load_platforms, platform_rows
from hitdesk.qc import NOT_MEASURED, Rule, check, load_profile, platform_profile, read_profile


def loud(lufs: float | None, peak: float | None, **more: float | None) -> dict[str, float | None]:
    base: dict[str, float | None] = dict.fromkeys(("lra_lu", "plr_db", "momentary_max_lufs", "short_term_max_lufs"))
    return {"lufs": lufs, "true_peak_dbtp": peak, **base, **more}


def by_name(rows: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    assert rows is not None
    return {r["name"]: r for r in rows}


def test_built_in_presets_are_the_six_platforms_with_their_targets() -> None:
    assert [(p.name, p.target_lufs) for p in BUILT_IN] == [
        ("Spotify", -14.0),
        ("Apple Music", -16.0),
        ("YouTube", -14.0),
        ("Tidal", -14.0),
        ("Amazon Music", -14.0),
        ("Deezer", -15.0),
    ]
    assert load_platforms() == BUILT_IN  # no user file yet


def test_a_loud_take_is_turned_down_everywhere() -> None:
    rows = by_name(platform_rows(loud(-8.0, -0.3), BUILT_IN))
    assert rows["Spotify"] == {"name": "Spotify", "target_lufs": -14.0, "gain_db": -6.0, "true_peak_after_dbtp": -6.3}
    assert rows["Apple Music"]["gain_db"] == -8.0 and rows["Deezer"]["gain_db"] == -7.0
    assert list(rows["YouTube"]) == ["name", "target_lufs", "gain_db", "true_peak_after_dbtp"]


def test_a_quiet_take_is_turned_up_only_where_the_platform_does_and_only_to_its_peak_limit() -> None:
    # Spotify's own example: -20 LUFS with a true peak of -5 dBTP is lifted only to -16 LUFS.
    rows = by_name(platform_rows(loud(-20.0, -5.0), BUILT_IN))
    assert rows["Spotify"]["gain_db"] == 4.0 and rows["Spotify"]["true_peak_after_dbtp"] == -1.0
    assert rows["Apple Music"]["gain_db"] == 4.0  # would need 4 dB to reach -16: exactly the room there is
    assert rows["YouTube"]["gain_db"] == 0.0 and rows["Tidal"]["true_peak_after_dbtp"] == -5.0
    quiet_peak = by_name(platform_rows(loud(-20.0, -12.0), BUILT_IN))
    assert quiet_peak["Spotify"]["gain_db"] == 6.0  # enough room: all the way to the target
    over = by_name(platform_rows(loud(-20.0, 0.5), BUILT_IN))
    assert over["Spotify"]["gain_db"] == 0.0  # peak already past the limit: not turned up at all


def test_unmeasured_loudness_has_no_platforms() -> None:
    assert platform_rows(loud(None, None), BUILT_IN) is None
    assert platform_rows(None, BUILT_IN) is None
    assert platform_rows(loud(None, -80.0), BUILT_IN) is None  # every block under the gate


def test_the_users_file_changes_and_adds_presets() -> None:
    file = paths.platforms_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(
        '[[platform]]\nname = "spotify"\ntarget_lufs = -11.0\nturns_up = true\n\n'
        '[[platform]]\nname = "Club PA"\ntarget_lufs = -8\n',
        encoding="utf-8",
    )
    presets = load_platforms()
    assert [p.name for p in presets] == [
        "spotify",
        "Apple Music",
        "YouTube",
        "Tidal",
        "Amazon Music",
        "Deezer",
        "Club PA",
    ]
    assert presets[0] == Platform("spotify", -11.0, True, None)
    assert by_name(platform_rows(loud(-20.0, -1.0), presets))["spotify"]["gain_db"] == 9.0  # no peak limit now


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[platform]]\nname = 'X'\n", "needs a target_lufs"),
        ("[[platform]]\nname = 'X'\ntarget_lufs = 'loud'\n", "target_lufs must be a number"),
        ("[[platform]]\nname = 'X'\ntarget_lufs = -14\ntrget = 1\n", "unknown settings: trget"),
        ("[[platform]]\ntarget_lufs = -14\n", "needs a name"),
        ("[platform\n", "Cannot read the platform presets"),
        ("volume = 11\n", r"only \[\[platform\]\] tables"),
    ],
)
def test_a_bad_presets_file_is_one_sentence(text: str, words: str) -> None:
    file = paths.platforms_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsFileError, match=words) as info:
        load_platforms()
    assert str(info.value).endswith(".") and "\n" not in str(info.value).strip()


# ---------------------------------------------------------------------------------------------- QC


def result(**parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "file": "a.wav",
        "mode": "full",
        "loudness": loud(-14.2, -1.5, lra_lu=6.0),
        "stereo": {"correlation": 0.8, "width": 0.1, "mono_loss_lu": 0.4},
        "clipping": {"spots": 0, "times_s": []},
        "error": None,
    }
    return {**base, **parts}


def statuses(checks: list[dict[str, str]] | None) -> dict[str, str]:
    assert checks is not None
    return {c["rule"]: c["status"] for c in checks}


def test_built_in_profiles_go_by_the_platforms_lowercase_names() -> None:
    for name, key in (("Spotify", "spotify"), ("Apple Music", "apple-music"), ("Amazon Music", "amazon-music")):
        profile = load_profile(key, BUILT_IN)
        assert profile.name == key and profile == platform_profile(next(p for p in BUILT_IN if p.name == name))
    assert load_profile("Apple Music", BUILT_IN).name == "apple-music"
    with pytest.raises(SettingsFileError, match="choose one of amazon-music, apple-music, deezer, spotify"):
        load_profile("napster", BUILT_IN)


def test_a_clean_master_passes_spotify() -> None:
    checks = check(result(), load_profile("spotify", BUILT_IN))
    assert statuses(checks) == dict.fromkeys(
        ("integrated_lufs", "true_peak_dbtp", "lra_lu", "mono_loss_lu", "clipping"), "pass"
    )
    assert checks is not None and checks[0]["detail"] == "-14.2 LUFS: within warn above -11, warn below -17"


def test_problems_warn_or_fail_with_the_reason() -> None:
    bad = result(
        loudness=loud(-7.5, 0.4, lra_lu=2.1),
        stereo={"correlation": -0.4, "width": 0.7, "mono_loss_lu": 7.5},
        clipping={"spots": 12, "times_s": [41.25, 50.0]},
    )
    checks = check(bad, load_profile("spotify", BUILT_IN))
    assert statuses(checks) == {
        "integrated_lufs": "warn",
        "true_peak_dbtp": "fail",
        "lra_lu": "warn",
        "mono_loss_lu": "fail",
        "clipping": "fail",
    }
    details = {c["rule"]: c["detail"] for c in checks or []}
    assert details["true_peak_dbtp"] == "0.4 dBTP: above 0"
    assert details["integrated_lufs"] == "-7.5 LUFS: above -11"
    assert details["clipping"] == "12 spots: above 10 (first at 41.25 s)"
    assert (
        statuses(check(result(clipping={"spots": 2, "times_s": [1.0, 2.0]}), platform_profile(BUILT_IN[0])))["clipping"]
        == "warn"
    )


def test_fast_mode_one_channel_and_failed_files() -> None:
    profile = load_profile("tidal", BUILT_IN)
    fast = check(result(mode="fast", loudness=loud(None, None), stereo=None, clipping=None), profile)
    assert fast is not None and {c["status"] for c in fast} == {"warn"} and fast[0]["detail"] == NOT_MEASURED
    mono = check(result(stereo=None), profile)
    assert statuses(mono)["mono_loss_lu"] == "pass"
    assert check(result(error="Cannot decode 'a.wav'."), profile) is None


def test_the_users_own_profiles(tmp_path: Path) -> None:
    folder = paths.qc_profiles_dir()
    folder.mkdir(parents=True)
    (folder / "vinyl.toml").write_text(
        'name = "Vinyl cut"\n[integrated_lufs]\nwarn_above = -15.0\nfail_above = -9\n[mono_loss_lu]\nfail_above = 1\n',
        encoding="utf-8",
    )
    profile = load_profile("vinyl", BUILT_IN)
    assert profile.name == "Vinyl cut"
    assert profile.rules == (
        Rule("integrated_lufs", warn_above=-15.0, fail_above=-9.0),
        Rule("mono_loss_lu", fail_above=1.0),
    )
    assert statuses(check(result(), profile)) == {"integrated_lufs": "warn", "mono_loss_lu": "pass"}
    # The user's own file by the name of a built-in one takes its place; any file can be given by path.
    (folder / "spotify.toml").write_text("[true_peak_dbtp]\nfail_above = -1.0\n", encoding="utf-8")
    assert statuses(check(result(), load_profile("spotify", BUILT_IN))) == {"true_peak_dbtp": "pass"}
    elsewhere = tmp_path / "broadcast.toml"
    elsewhere.write_text("[integrated_lufs]\nfail_above = -22.0\nfail_below = -24.0\n", encoding="utf-8")
    assert statuses(check(result(), load_profile(str(elsewhere), BUILT_IN))) == {"integrated_lufs": "fail"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[loudness]\nwarn_above = 1\n", "not one of"),
        ("[true_peak_dbtp]\nceiling = -1\n", "unknown limits: ceiling"),
        ("[true_peak_dbtp]\nfail_above = 'high'\n", "must be a number"),
        ("name = 'empty'\n", "has no rules"),
        ("[true_peak_dbtp\n", "Cannot read the QC profile"),
    ],
)
def test_a_bad_profile_is_one_sentence(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsFileError, match=words):
        read_profile(path)
