"""The recorder and the live session with fake streams: the failures a virtual device cannot produce.

A fake stream calls the recorder's callback from its own thread, as PortAudio does, faster than
real time; it can flag overflows, stop calling back (a stalled device), or end on its own (a device
unplugged); see ``tests/fake_streams.py``. The real-time path through PortAudio is tested in
``test_capture_live.py``.
"""

from __future__ import annotations

import errno
import io
import itertools
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fake_streams import FakeStream, stream_factory

import hitdesk.capture.recorder as capture
from hitdesk.capture import devices as devices_module
from hitdesk.capture.devices import InputDevice, find_input_device, list_input_devices, sounddevice, supported_rates
from hitdesk.capture.library import list_recordings
from hitdesk.capture.recorder import Recorder, RecorderSettings, RecorderState
from hitdesk.capture.repair import needs_repair
from hitdesk.errors import CaptureError
from hitdesk.paths import recordings_dir

REPO = Path(__file__).resolve().parents[2]
DEVICE = InputDevice(7, "Fake Interface", "FakeAPI", 4, 48000.0, True)


@pytest.fixture
def fake_device(monkeypatch: pytest.MonkeyPatch) -> InputDevice:
    monkeypatch.setattr(capture, "find_input_device", lambda spec=None: DEVICE)
    monkeypatch.setattr(capture, "supported_rates", lambda device, channels, requested: [requested or 48000])
    return DEVICE


def _signal(seconds: float, rate: int = 48000, channels: int = 4) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    cols = [0.2 * np.sin(2 * np.pi * (220.0 * (c + 1)) * t + c) for c in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


def _record(recorder: Recorder, timeout: float = 20.0) -> None:
    recorder.start()
    assert recorder.wait(timeout), "the recorder did not finish"


# ---------------------------------------------------------------------------------------------- recorder


def test_exact_length_chosen_pair_and_mono_feed(fake_device: InputDevice, tmp_path: Path) -> None:
    sig = _signal(3.0)
    fed: list[np.ndarray] = []
    out = tmp_path / "take.wav"
    rec = Recorder(
        RecorderSettings(channels=(1, 3), path=out, max_seconds=2.5),
        on_audio=fed.append,
        stream_factory=stream_factory(sig),
    )
    _record(rec)
    status = rec.final_status
    assert status is not None and status.state is RecorderState.FINISHED and status.problem is None
    assert status.frames == 120000 and status.channels == (1, 3)
    assert status.input_overflows == 0 and status.dropped_frames == 0 and not status.device_lost
    y, rate = sf.read(str(out), dtype="float32")
    assert rate == 48000 and y.shape == (120000, 2)
    np.testing.assert_allclose(y, sig[:120000][:, [1, 3]], atol=2.0 / (1 << 23))
    mono = np.concatenate(fed)
    np.testing.assert_allclose(mono, sig[:120000][:, [1, 3]].mean(axis=1), atol=1e-6)
    assert not needs_repair(out) and list(recordings_dir().glob(".unfinished/*")) == []


def test_the_vectorscope_ring_gets_the_chosen_input_channels(fake_device: InputDevice, tmp_path: Path) -> None:
    """The record panel's vectorscope reads ``Recorder.scope``: the newest frames of the chosen pair."""
    sig = _signal(3.0)
    rec = Recorder(
        RecorderSettings(channels=(1, 3), path=tmp_path / "take.wav", max_seconds=2.5),
        stream_factory=stream_factory(sig),
    )
    _record(rec)
    newest = np.zeros((4096, 2), dtype=np.float32)
    assert rec.scope.latest(newest) == 4096 and rec.scope.source_channels == 2
    np.testing.assert_array_equal(newest, sig[120000 - 4096 : 120000][:, [1, 3]])


def test_default_file_goes_to_the_recordings_folder(fake_device: InputDevice) -> None:
    rec = Recorder(RecorderSettings(max_seconds=0.5, file_format="flac"), stream_factory=stream_factory(_signal(1.0)))
    _record(rec)
    assert rec.path is not None and rec.path.parent == recordings_dir() and rec.path.suffix == ".flac"
    assert rec.path.name.startswith("take-")
    assert sf.info(str(rec.path)).frames == 24000
    assert [r.path for r in list_recordings()] == [rec.path]


def test_overflows_are_counted(fake_device: InputDevice, tmp_path: Path) -> None:
    rec = Recorder(
        RecorderSettings(path=tmp_path / "o.wav", max_seconds=1.0),
        stream_factory=stream_factory(_signal(1.0), overflow_blocks=(3, 5, 9)),
    )
    _record(rec)
    assert rec.final_status is not None and rec.final_status.input_overflows == 3


def test_ring_full_drops_are_counted(fake_device: InputDevice, tmp_path: Path) -> None:
    """A writer that falls behind loses audio at the ring, counted; the callback never waits."""

    def slow(mono: np.ndarray) -> None:
        time.sleep(0.2)

    rec = Recorder(
        RecorderSettings(path=tmp_path / "d.wav", ring_seconds=0.05),
        on_audio=slow,
        stream_factory=stream_factory(_signal(2.0), speed=4.0),
    )
    rec.start()
    time.sleep(1.0)
    rec.stop()
    assert rec.wait(10)
    status = rec.final_status
    assert status is not None and status.dropped_frames > 0
    assert sf.info(str(tmp_path / "d.wav")).frames == status.frames


def test_device_lost_keeps_a_valid_take(fake_device: InputDevice, tmp_path: Path) -> None:
    out = tmp_path / "lost.wav"
    finished: list[Any] = []
    streams: list[FakeStream] = []
    rec = Recorder(
        RecorderSettings(path=out, max_seconds=30.0),
        on_finished=finished.append,
        stream_factory=stream_factory(_signal(2.0), streams, lose_after=48000),
    )
    _record(rec)
    status = rec.final_status
    assert status is not None and status.device_lost and status.problem is not None
    assert "unplugged" in status.problem and "kept" in status.problem
    assert finished == [status]
    assert sf.info(str(out)).frames == status.frames == 47 * 1024  # every block delivered before the loss
    assert not needs_repair(out) and streams[0].closed


def test_a_stalled_device_is_noticed(fake_device: InputDevice, tmp_path: Path) -> None:
    rec = Recorder(
        RecorderSettings(path=tmp_path / "stall.wav", stall_seconds=0.3),
        stream_factory=stream_factory(_signal(1.0), stall_after=24000),
    )
    _record(rec)
    status = rec.final_status
    assert status is not None and status.device_lost and status.problem and "no audio for 0.3 s" in status.problem
    assert status.frames == 24576


def test_busy_device_is_one_sentence_and_leaves_no_file(fake_device: InputDevice, tmp_path: Path) -> None:
    sd = sounddevice()

    def busy(*args: Any) -> Any:
        raise sd.PortAudioError("Error opening InputStream: Device unavailable", -9985)

    out = tmp_path / "busy.wav"
    with pytest.raises(CaptureError, match="busy or unavailable: close other programs") as err:
        Recorder(RecorderSettings(path=out), stream_factory=busy).start()
    assert str(err.value).count(".") == 1
    assert not out.exists()


def test_start_failure_removes_the_empty_file(fake_device: InputDevice, tmp_path: Path) -> None:
    sd = sounddevice()
    out = tmp_path / "nostart.wav"
    factory = stream_factory(_signal(1.0), fail_start=sd.PortAudioError("Error starting stream", -9999))
    with pytest.raises(CaptureError, match="cannot be opened"):
        Recorder(RecorderSettings(path=out), stream_factory=factory).start()
    assert not out.exists() and list(recordings_dir().glob(".unfinished/*")) == []


def test_rate_refused_on_open_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sd = sounddevice()
    monkeypatch.setattr(capture, "find_input_device", lambda spec=None: DEVICE)
    monkeypatch.setattr(capture, "supported_rates", lambda device, channels, requested: [96000, 48000, 44100])
    tried: list[int] = []
    ok = stream_factory(_signal(1.0))

    def picky(device: InputDevice, channels: int, rate: int, callback: Any, finished: Any) -> Any:
        tried.append(rate)
        if rate == 96000:
            raise sd.PortAudioError("Invalid sample rate", -9997)
        return ok(device, channels, rate, callback, finished)

    rec = Recorder(RecorderSettings(path=tmp_path / "r.wav", sample_rate=96000, max_seconds=0.2), stream_factory=picky)
    _record(rec)
    assert tried == [96000, 48000] and rec.sample_rate == 48000
    assert sf.info(str(tmp_path / "r.wav")).samplerate == 48000


def test_supported_rates_order_and_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = sounddevice()
    accepted = {44100}

    def check(device: int, channels: int, dtype: str, samplerate: int) -> None:
        if samplerate not in accepted:
            raise sd.PortAudioError("Invalid sample rate", -9997)

    monkeypatch.setattr(sd, "check_input_settings", check)
    assert supported_rates(DEVICE, 2, 96000) == [44100]  # 96000, then default 48000, then 48000, 44100
    accepted.update({96000, 48000})
    assert supported_rates(DEVICE, 2, 96000) == [96000, 48000, 44100]
    accepted.clear()
    with pytest.raises(CaptureError, match="accepts none of the sample rates"):
        supported_rates(DEVICE, 2, None)
    with pytest.raises(CaptureError, match="has 4 input channels"):
        supported_rates(DEVICE, 6, None)


def test_no_input_device(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = sounddevice()

    def none(device: Any = None, kind: Any = None) -> Any:
        if kind is not None or device is not None:
            raise sd.PortAudioError("Error querying device -1", -9996)
        return sd.DeviceList([])

    monkeypatch.setattr(sd, "query_devices", none)
    rescans = _fast_rescans(monkeypatch)
    assert list_input_devices() == []
    with pytest.raises(CaptureError, match="No audio input device was found"):
        find_input_device(None)
    assert len(rescans) == len(devices_module.RESCAN_DELAYS_S)  # asked again before giving up
    from hitdesk.cli import main

    assert main(["devices"]) == 1


def _fast_rescans(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records the pauses between rescans instead of sleeping, and restarts no real PortAudio."""
    pauses: list[float] = []
    monkeypatch.setattr(devices_module.time, "sleep", pauses.append)
    monkeypatch.setattr(devices_module, "rescan_devices", lambda: None)
    return pauses


@pytest.mark.parametrize("spec", [None, "Desk Interface", "3"])
def test_a_device_the_sound_server_shows_late_is_found(monkeypatch: pytest.MonkeyPatch, spec: str | None) -> None:
    """PortAudio started while the sound server was still starting lists no input, or not the named
    one; early capture runs then said "No audio input device was found" for a device that existed."""
    sd = sounddevice()
    late = {"name": "Desk Interface", "hostapi": 0, "max_input_channels": 2, "default_samplerate": 48000.0}
    scans = {"n": 0}

    def rescan() -> None:
        scans["n"] += 1

    def query(device: Any = None, kind: Any = None) -> Any:
        output = {"name": "Speakers", "hostapi": 0, "max_input_channels": 0, "default_samplerate": 48000.0}
        shown = [output] * 3 + ([late] if scans["n"] >= 2 else [])  # seen from the second restart on, as device 3
        if kind == "input":
            if scans["n"] < 2:
                raise sd.PortAudioError("Error querying device -1", -9996)
            return {**late, "index": 3}
        return sd.DeviceList(shown)

    pauses = _fast_rescans(monkeypatch)
    monkeypatch.setattr(devices_module, "rescan_devices", rescan)
    monkeypatch.setattr(sd, "query_devices", query)
    monkeypatch.setattr(sd, "query_hostapis", lambda index=None: ({"name": "ALSA"},))
    found = find_input_device(spec)
    assert found.name == "Desk Interface" and scans["n"] == 2
    assert sum(pauses) < 1.0


def test_device_choice_by_name_or_number(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = sounddevice()
    devices = [
        {"name": "USB Audio CODEC", "hostapi": 0, "max_input_channels": 2, "default_samplerate": 48000.0},
        {"name": "Speakers", "hostapi": 0, "max_input_channels": 0, "default_samplerate": 48000.0},
        {"name": "USB Mic", "hostapi": 0, "max_input_channels": 1, "default_samplerate": 44100.0},
    ]

    def query(device: Any = None, kind: Any = None) -> Any:
        if kind == "input":
            return {**devices[2], "index": 2}
        return sd.DeviceList(devices)

    monkeypatch.setattr(sd, "query_devices", query)
    monkeypatch.setattr(sd, "query_hostapis", lambda index=None: ({"name": "ALSA"},))
    _fast_rescans(monkeypatch)
    listed = list_input_devices()
    assert [(d.index, d.name, d.hostapi, d.is_default) for d in listed] == [
        (0, "USB Audio CODEC", "ALSA", False),
        (2, "USB Mic", "ALSA", True),
    ]
    assert find_input_device(None).index == 2
    assert find_input_device("0").name == "USB Audio CODEC"
    assert find_input_device("usb mic").index == 2
    assert find_input_device("codec").index == 0
    with pytest.raises(CaptureError, match="matches several"):
        find_input_device("USB")
    with pytest.raises(CaptureError, match="no input device number 1"):
        find_input_device(1)  # an output-only device


# ---------------------------------------------------------------------------------------------- session


def _clip(data_dir: Path) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(data_dir / "chipdisko-12s.ogg"), dtype="float32", always_2d=True)
    return data, rate


def test_live_scores_follow_the_file_code_path(
    model: Any, fake_device: InputDevice, data_dir: Path, tmp_path: Path
) -> None:
    from hitdesk.analysis import AnalysisOptions
    from hitdesk.audio import decode_all
    from hitdesk.capture.session import CaptureSession
    from hitdesk.dsp import power_to_db, tempo_bpm
    from hitdesk.dsp.mel import melspectrogram
    from hitdesk.dsp.windows import frame_range

    data, rate = _clip(data_dir)
    out = tmp_path / "take.wav"
    session = CaptureSession(
        model,
        RecorderSettings(path=out, sample_rate=rate, max_seconds=11.0),
        window_seconds=3.0,
        stream_factory=stream_factory(data, block=997, speed=10.0),
    )
    session.start()
    take = session.wait(60)
    assert take is not None and take.path == out
    live = take.live_scores
    assert [(s.segment, s.t_s) for s in live] == [("beginning", 3.0), ("now", 5.0), ("now", 10.0)]
    assert [(s.start_s, s.end_s) for s in live] == [(0.0, 3.0), (2.0, 5.0), (7.0, 10.0)]

    # The same windows of the written file, through the file decoder and the shared dsp code.
    mel = melspectrogram(decode_all(out))
    for s in live:
        power = mel[:, frame_range(s.start_s, s.end_s, mel.shape[1])]
        expected = model.score_logmel([power_to_db(power)], [[tempo_bpm(power), s.t_s]])[0]
        assert s.score.p_hit == pytest.approx(expected.p_hit, abs=1e-4)
        assert s.score.p_hit_low == pytest.approx(expected.p_hit_low, abs=1e-4)

    # The final result is `hitdesk analyze` on the file (with its curve and explanations), field for field.
    from hitdesk.explain import analyze

    reference, _ = analyze(out, model, AnalysisOptions(window_seconds=3.0))
    assert take.result.to_dict() == reference.to_dict()
    assert take.result.duration_s == pytest.approx(11.0, abs=1e-3) and take.result.error is None
    assert session.status().state == "done"


def test_mel_columns_and_new_scores_are_polled(
    model: Any, fake_device: InputDevice, data_dir: Path, tmp_path: Path
) -> None:
    from hitdesk.capture.live import MelColumns
    from hitdesk.capture.session import CaptureSession

    data, rate = _clip(data_dir)
    session = CaptureSession(
        model,
        RecorderSettings(path=tmp_path / "p.wav", sample_rate=rate, max_seconds=6.0),
        window_seconds=3.0,
        stream_factory=stream_factory(data, speed=4.0),
    )
    session.start()
    columns: list[MelColumns] = []
    scores = []
    while session.wait(0.03) is None:
        columns.append(session.new_mel_columns())
        scores += session.new_scores()
        assert session.status().recording.frames <= 6 * rate
    columns.append(session.new_mel_columns())
    scores += session.new_scores()
    got = [c for c in columns if c.values.shape[1]]
    assert got[0].first_frame == 0
    for a, b in itertools.pairwise(got):
        assert b.first_frame == a.first_frame + a.values.shape[1]  # no gap, no overlap
    total = sum(c.values.shape[1] for c in got)
    assert total == 1 + (6 * 22050) // 512
    allv = np.concatenate([c.values for c in got], axis=1)
    assert allv.shape[0] == 128 and allv.min() >= -121 and allv.max() <= 3.0 and allv.max() > -30
    assert [s.segment for s in scores] == ["beginning", "now"]


def test_picture_columns_come_with_each_block_and_show_what_the_model_hears(model: Any, data_dir: Path) -> None:
    """Spectrogram columns without the scores' resampler delay, close to the mel the scores use."""
    from hitdesk.audio.resample import StreamResampler
    from hitdesk.capture.live import MEL_FLOOR_DB, LiveScorer
    from hitdesk.dsp.mel import melspectrogram, power_to_fs_db

    data, rate = _clip(data_dir)
    mono = data.mean(axis=1, dtype=np.float32)[: 4 * rate]
    told: list[str] = []
    scorer = LiveScorer(
        model, rate, window_seconds=3.0, on_columns=lambda: told.append(threading.current_thread().name)
    )
    block = rate // 50
    got = []
    for a in range(0, mono.size, block):
        scorer.feed(mono[a : a + block])
        columns = scorer.new_mel_columns()
        got.append(columns.values)
        # Every column whose analysis frame (46 ms either side of its centre) has been fed is there,
        # but for the anti-aliasing filter's 0.7 ms.
        fed = (a + block) * 22050 / rate - 16
        assert columns.first_frame + columns.values.shape[1] >= int((fed - 1024) // 512) + 1
    scorer.finish()
    got.append(scorer.new_mel_columns().values)
    scorer.close()
    assert told and set(told) == {threading.current_thread().name}  # called where feed runs
    picture = np.concatenate(got, axis=1)
    resampler = StreamResampler(rate)
    hq = np.concatenate([resampler.push(mono), resampler.finish()])
    reference = np.maximum(power_to_fs_db(melspectrogram(hq)), MEL_FLOOR_DB)
    assert picture.shape == reference.shape
    loud = reference > -60.0
    assert float(np.mean(np.abs(picture - reference)[loud])) < 0.5  # dB


def test_without_a_picture_no_columns_are_computed_and_the_scores_are_the_same(model: Any, data_dir: Path) -> None:
    """The command line draws nothing: its sessions skip the picture's path."""
    from hitdesk.capture.live import LiveScorer

    data, rate = _clip(data_dir)
    mono = data.mean(axis=1, dtype=np.float32)[: 7 * rate]
    scores = []
    for picture in (True, False):
        scorer = LiveScorer(model, rate, 3.0, picture=picture)
        for a in range(0, mono.size, rate // 50):
            scorer.feed(mono[a : a + rate // 50])
        scorer.finish()
        scorer.close()
        columns = scorer.new_mel_columns().values.shape[1]
        assert columns == (1 + (7 * 22050) // 512 if picture else 0)
        scores.append([(s.segment, s.t_s, s.score.p_hit) for s in scorer.scores()])
    assert scores[0] == scores[1] and [s[:2] for s in scores[0]] == [("beginning", 3.0), ("now", 5.0)]


def test_session_keeps_and_scores_the_take_when_the_device_is_lost(
    model: Any, fake_device: InputDevice, data_dir: Path, tmp_path: Path
) -> None:
    from hitdesk.capture.session import CaptureSession

    data, rate = _clip(data_dir)
    session = CaptureSession(
        model,
        RecorderSettings(path=tmp_path / "l.wav", sample_rate=rate, max_seconds=60.0),
        window_seconds=3.0,
        stream_factory=stream_factory(data, speed=10.0, lose_after=5 * rate),
    )
    session.start()
    take = session.wait(60)
    assert take is not None and take.recording.device_lost
    assert take.result.error is None and take.result.overall is not None
    assert take.result.duration_s == pytest.approx(take.recording.seconds, abs=1e-3)
    assert any("unplugged" in n for n in take.result.notes)
    assert [s.segment for s in take.live_scores] == ["beginning", "now"]


# ---------------------------------------------------------------------------------------------- live schedule


class _RecordingModel:
    """Stands in for HitModel in the live scorer: remembers what it was asked to score."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray]] = []

    def score_logmel(self, logmels: Any, tempo_duration: Any) -> Any:
        from hitdesk.results import Score

        self.calls.append((np.asarray(logmels[0]), np.asarray(tempo_duration)))
        return [Score(0.5, 0.4, 0.6)]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (3.0, [("beginning", 3.0), ("now", 5.0), ("now", 10.0), ("now", 15.0)]),
        (7.0, [("beginning", 7.0), ("now", 10.0), ("now", 15.0)]),
        (10.0, [("beginning", 10.0), ("now", 15.0)]),
        (30.0, []),
    ],
)
def test_live_schedule_is_counted_in_samples(window: float, expected: list[tuple[str, float]]) -> None:
    from hitdesk.capture.live import LiveScorer
    from hitdesk.dsp.windows import frame_range

    model = _RecordingModel()
    rate = 44100
    scorer = LiveScorer(model, rate, window_seconds=window)  # type: ignore[arg-type]
    rng = np.random.default_rng(1)
    audio = (0.1 * rng.standard_normal(round(17.5 * rate))).astype(np.float32)
    pos = 0
    while pos < audio.size:  # blocks of any size, as the writer thread drains the ring
        n = int(rng.integers(1, 9000))
        scorer.feed(audio[pos : pos + n])
        pos += n
    scorer.finish()
    scorer.close()
    got = scorer.scores()
    assert [(s.segment, s.t_s) for s in got] == expected
    for s, (logmel, td) in zip(got, model.calls, strict=True):
        assert s.end_s - s.start_s == pytest.approx(window)
        frames = frame_range(s.start_s, s.end_s, 1 << 40)
        assert logmel.shape == (128, frames.stop - frames.start)  # the frames centred in the window
        assert logmel.max() == pytest.approx(0.0, abs=1e-4)  # the window's own maximum is 0 dB
        assert td[0, 1] == pytest.approx(s.t_s)  # duration = length recorded so far
        assert 30.0 < td[0, 0] < 300.0  # a tempo
    assert scorer.new_scores() == got and scorer.new_scores() == []


def test_capture_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hitdesk.cli import main

    existing = tmp_path / "mine.wav"
    existing.write_bytes(b"precious")
    assert main(["capture", "--seconds", "1", "--out", str(existing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"hitdesk: '{existing}' already exists; choose another file name."
    assert existing.read_bytes() == b"precious"
    assert main(["capture", "--out", str(tmp_path / "x.mp3")]) == 2
    assert "needs a .wav or .flac name" in capsys.readouterr().err
    assert main(["capture", "--out", str(tmp_path / "no" / "such" / "x.wav")]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["capture", "--channels", "3"])
    assert usage.value.code == 2


# ---------------------------------------------------------------------------------------------- unwritable output


class _FullStdout(io.StringIO):
    """Standard output on a full disk (``>/dev/full``): every flush fails."""

    encoding = "utf-8"

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    @property
    def buffer(self) -> Any:
        return self


@pytest.mark.parametrize(("stdout", "as_json"), [("full", True), ("full", False), ("closed", False), ("closed", True)])
def test_capture_keeps_its_take_when_the_output_cannot_be_written(
    model: Any,
    fake_device: InputDevice,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdout: str,
    as_json: bool,
) -> None:
    from hitdesk.cli import common, main

    data, _rate = _clip(data_dir)
    monkeypatch.setattr(capture, "portaudio_stream", stream_factory(data, speed=10.0))
    monkeypatch.setattr(common, "drop_stdout", lambda: None)  # the test's own fd 1 stays
    out = tmp_path / "x.wav"
    args = ["capture", "--seconds", "3", "--window-seconds", "3", "--out", str(out), *(["--json"] if as_json else [])]
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", _FullStdout() if stdout == "full" else None)
    assert main(args) == 1
    monkeypatch.undo()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("Recording 'Fake Interface")
    reason = "No space left on device" if stdout == "full" else "standard output is closed"
    assert lines[1:] == [f"hitdesk: cannot write the output: {reason}; the take is saved in {out} (0:03)."]
    assert sf.info(str(out)).duration == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("stdout", ["full", "closed"])
def test_devices_output_that_cannot_be_written_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdout: str, as_json: bool
) -> None:
    from hitdesk.cli import common, main

    monkeypatch.setattr(devices_module, "scan_input_devices", lambda spec=None: [DEVICE])
    monkeypatch.setattr(common, "drop_stdout", lambda: None)
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", _FullStdout() if stdout == "full" else None)
    assert main(["devices", *(["--json"] if as_json else [])]) == 1
    monkeypatch.setattr(sys, "stdout", sys.__stdout__)
    reason = "No space left on device" if stdout == "full" else "standard output is closed"
    assert capsys.readouterr().err.strip().splitlines() == [f"hitdesk: cannot write the output: {reason}."]


def test_device_names_reach_the_terminal_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hitdesk.cli import main

    odd = InputDevice(3, "Mic\x1b]0;pwned\x07\nX", "ALSA", 1, 44100.0, True)
    monkeypatch.setattr(devices_module, "scan_input_devices", lambda spec=None: [odd])
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "Mic\\x1b]0;pwned\\x07\\x0aX" in out
    assert len(out.splitlines()) == 3
