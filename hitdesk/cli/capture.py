"""``hitdesk capture``: record a take from an input, print live scores, end with the take's full result."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitdesk import present
from hitdesk.cli.args import add_model, add_window_seconds, duration_seconds, sample_rate
from hitdesk.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    OutputClosedError,
    emit,
    error,
)
from hitdesk.config import window_seconds_for
from hitdesk.present import mmss, terminal_text

if TYPE_CHECKING:
    from hitdesk.capture.session import CaptureSession, RecordedTake


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cap = sub.add_parser(
        "capture",
        help="record a take from an audio input and score it live",
        description=(
            "Record from an audio input into a WAV or FLAC file (in the app's recordings folder unless "
            "--out is given), print live scores of the beginning and of the last window as they come, and "
            "end with the take's full result, as 'hitdesk analyze' gives it. Ctrl-C stops the take."
        ),
    )
    cap.add_argument("--device", metavar="NAME_OR_INDEX", help="input device (default: the system's default input)")
    cap.add_argument(
        "--channels",
        type=int,
        choices=(1, 2),
        help="record input 1 alone, or inputs 1+2 (mixed to mono for scoring); default 1+2 where there are two",
    )
    cap.add_argument("--seconds", type=duration_seconds, metavar="N", help="stop after N seconds (default: Ctrl-C)")
    cap.add_argument("--out", metavar="FILE", help="write the take to FILE (.wav or .flac); never overwrites")
    cap.add_argument("--format", choices=("wav", "flac"), default="wav", help="file format without --out (default wav)")
    cap.add_argument("--sample-rate", type=sample_rate, metavar="HZ", help="ask for this rate (default: device's)")
    cap.add_argument("--json", action="store_true", help="print JSON lines: live scores, then the take's result")
    add_window_seconds(cap)
    add_model(cap)
    cap.set_defaults(handler=run)


@contextlib.contextmanager
def _stop_on_signals(session: CaptureSession) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) ends the take cleanly; a second Ctrl-C interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        session.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    old_int = signal.signal(signal.SIGINT, stop)
    old_term = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def _check_out(out: Path) -> str | None:
    from hitdesk.capture.writers import recording_format
    from hitdesk.errors import CaptureError

    if out.exists():
        return f"'{out}' already exists; choose another file name."
    try:
        recording_format(out)
    except CaptureError as exc:
        return str(exc)
    if not out.parent.is_dir():
        return f"The folder '{out.parent}' does not exist."
    return None


def run(args: argparse.Namespace) -> int:
    from hitdesk.capture.recorder import RecorderSettings
    from hitdesk.capture.recovery import recover_unfinished
    from hitdesk.capture.session import CaptureSession
    from hitdesk.errors import CaptureError, HitdeskError
    from hitdesk.model import HitModel

    out = Path(args.out) if args.out else None
    if out is not None and (problem := _check_out(out)):
        error(problem)
        return EXIT_USAGE
    try:
        model = HitModel.load(args.model)
    except HitdeskError as exc:
        error(str(exc))
        return EXIT_USAGE
    for old in recover_unfinished():
        if old.problem:
            error(old.problem)
        else:
            error(f"recovered an unfinished take: {old.path} ({mmss(old.duration_s or 0.0)})")

    settings = RecorderSettings(
        device=args.device,
        channels=None if args.channels is None else tuple(range(args.channels)),
        sample_rate=args.sample_rate,
        path=out,
        file_format=args.format,
        max_seconds=args.seconds,
    )
    window_seconds = window_seconds_for(args.window_seconds, model.card.window_seconds)
    session = CaptureSession(model, settings, window_seconds=window_seconds, picture=False)  # nothing is drawn
    try:
        status = session.open()
    except CaptureError as exc:
        error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        session.close()  # removes the file it may have created
        raise
    if args.sample_rate and status.sample_rate != args.sample_rate:
        error(f"'{status.device}' cannot record at {args.sample_rate} Hz; recording at {status.sample_rate} Hz.")
    channels = "+".join(str(c + 1) for c in status.channels)
    until = f"for {args.seconds:g} s (Ctrl-C stops early)" if args.seconds else "until Ctrl-C"
    print(
        terminal_text(
            f"Recording '{status.device}' input {channels} at {status.sample_rate} Hz to {status.path} {until}."
        ),
        file=sys.stderr,
        flush=True,
    )
    with _stop_on_signals(session):
        try:
            session.start()
        except CaptureError as exc:
            error(str(exc))
            return EXIT_FAILED
        try:
            take, lost = _follow(session, args.json)
        except KeyboardInterrupt:
            session.stop()
            session.recorder.wait(10.0)
            error(f"interrupted; the take is saved in {status.path} but was not scored")
            return EXIT_INTERRUPTED

    result = _with_platforms(take.result.to_dict())
    rec = take.recording
    try:
        if lost is not None:
            raise lost
        if args.json:
            emit(json.dumps(result, ensure_ascii=False) + "\n", utf8=True, say=False)
        else:
            emit(present.format_human([result], model.card), say=False)
    except OutputClosedError as closed:  # the take is whole all the same: say where it is
        where = f"the take is saved in {take.path} ({mmss(rec.seconds)})"
        error(f"cannot write the output: {closed.reason}; {where}." if closed.reason else f"{where}.")
        return closed.status
    print(terminal_text(f"Take saved: {take.path} ({mmss(rec.seconds)})."), file=sys.stderr)
    if rec.problem:
        error(rec.problem)
        return EXIT_FAILED
    if take.result.error:
        error(take.result.error)
        return EXIT_FAILED
    return EXIT_OK


def _follow(session: CaptureSession, as_json: bool) -> tuple[RecordedTake, OutputClosedError | None]:
    """Prints live scores until the take's result is ready; returns the take, and why stdout failed if
    it did. A failed stdout (a reader gone away, a full disk) stops the printing, not the recording: the
    take still ends as asked (``--seconds``, Ctrl-C), so no part of a performance is lost to it."""
    lost: OutputClosedError | None = None
    while True:
        take = session.wait(0.1)
        for score in session.new_scores():
            if lost is not None:
                continue
            if as_json:
                text = json.dumps(score.to_dict()) + "\n"
            else:
                text = present.live_line(score.segment, score.t_s, score.start_s, score.end_s, score.score) + "\n"
            try:
                emit(text, utf8=as_json, say=False)
            except OutputClosedError as closed:
                lost = closed
        if take is not None:
            return take, lost


def _with_platforms(row: dict[str, Any]) -> dict[str, Any]:
    """The take's result as ``hitdesk analyze`` prints it: with the platforms' gains (none when the
    user's presets cannot be read, which is said once)."""
    from hitdesk.errors import HitdeskError
    from hitdesk.platforms import load_platforms, platform_rows

    try:
        gains = platform_rows(row.get("loudness"), load_platforms())
    except HitdeskError as exc:
        error(str(exc))
        gains = None
    return present.with_outputs(row, gains, None, False)
