"""The ``capture`` and ``devices`` commands: record a take from an input and score it, list inputs.

``add_parsers`` plugs both into the main ``hitdesk`` parser; ``main`` runs them on their own. Nothing
heavy is imported at module level (no PortAudio, no onnxruntime), so ``hitdesk --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitdesk.config import DEFAULT_WINDOW_SECONDS, MIN_TRACK_SECONDS

if TYPE_CHECKING:
    from hitdesk.live import CaptureSession, LiveScore, Take
    from hitdesk.model import HitModel

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0 < value <= 24 * 3600:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 24 hours")
    return value


def window_seconds_arg(text: str) -> float:
    """argparse type for --window-seconds, shared by `analyze` and `capture`."""
    value = _positive_seconds(text)
    if not MIN_TRACK_SECONDS <= value <= 600:
        raise argparse.ArgumentTypeError(f"must be between {MIN_TRACK_SECONDS:g} and 600 seconds")
    return value


def add_window_seconds_argument(parser: argparse.ArgumentParser) -> None:
    """``--window-seconds``, as `analyze` and `capture` both take it."""
    parser.add_argument(
        "--window-seconds",
        type=window_seconds_arg,
        default=None,
        metavar="S",
        help=f"length of each window in seconds (default: the model's own; {DEFAULT_WINDOW_SECONDS:g} for the default)",
    )


def window_seconds_for(requested: float | None, model: HitModel) -> float:
    """The window length asked for, else the one the model was trained on, else the default."""
    if requested is not None:
        return requested
    return model.card.window_seconds or DEFAULT_WINDOW_SECONDS


def _sample_rate(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if not 8000 <= value <= 384000:
        raise argparse.ArgumentTypeError("must be between 8000 and 384000 Hz")
    return value


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``capture`` and ``devices`` to the ``hitdesk`` command's subcommands."""
    cap = subparsers.add_parser(
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
    cap.add_argument("--seconds", type=_positive_seconds, metavar="N", help="stop after N seconds (default: Ctrl-C)")
    cap.add_argument("--out", metavar="FILE", help="write the take to FILE (.wav or .flac); never overwrites")
    cap.add_argument("--format", choices=("wav", "flac"), default="wav", help="file format without --out (default wav)")
    cap.add_argument("--sample-rate", type=_sample_rate, metavar="HZ", help="ask for this rate (default: device's)")
    cap.add_argument("--json", action="store_true", help="print JSON lines: live scores, then the take's result")
    add_window_seconds_argument(cap)
    cap.add_argument("--model", metavar="PATH", help="model name, or path to its .onnx/.json (default: bundled)")
    cap.set_defaults(handler=cmd_capture)

    dev = subparsers.add_parser(
        "devices",
        help="list audio inputs",
        description="List audio input devices: number, name, host API, channels, default rate; * marks the default.",
    )
    dev.add_argument("--json", action="store_true", help="print a JSON list")
    dev.set_defaults(handler=cmd_devices)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``capture`` or ``devices`` without the rest of the command line."""
    parser = argparse.ArgumentParser(prog="hitdesk", description="Record and score takes; list audio inputs.")
    add_parsers(parser.add_subparsers(dest="command", metavar="COMMAND"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "handler", None) is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("hitdesk: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _error(message: str) -> None:
    print(f"hitdesk: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------- devices


def cmd_devices(args: argparse.Namespace) -> int:
    from hitdesk.audio.devices import list_input_devices
    from hitdesk.errors import CaptureError

    try:
        devices = list_input_devices()
    except CaptureError as exc:
        _error(str(exc))
        return EXIT_FAILED
    if args.json:
        print(json.dumps([d.to_dict() for d in devices], ensure_ascii=False, indent=2))
    else:
        name_w = max([len("name"), *(len(d.name) for d in devices)])
        api_w = max([len("host API"), *(len(d.hostapi) for d in devices)])
        print(f"  {'#':>3}  {'name':<{name_w}}  {'host API':<{api_w}}  {'inputs':>6}  {'default rate':>12}")
        for d in devices:
            mark = "*" if d.is_default else " "
            print(
                f"{mark} {d.index:>3}  {d.name:<{name_w}}  {d.hostapi:<{api_w}}  {d.channels:>6}  "
                f"{d.default_samplerate:>9.0f} Hz"
            )
        if devices:
            print("* = default input")
    if not devices:
        _error("No audio input device was found: connect a microphone or audio interface.")
        return EXIT_FAILED
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- capture


def _clock(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def _live_line(score: LiveScore) -> str:
    s = score.score
    where = f"{score.segment} ({_clock(score.start_s)}-{_clock(score.end_s)})"
    return f"  {_clock(score.t_s):>5}  {where:<22} P(hit) {_pct(s.p_hit):>4}   {_pct(s.p_hit_low)}-{_pct(s.p_hit_high)}"


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
    from hitdesk.audio.recordings import recording_format
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


def cmd_capture(args: argparse.Namespace) -> int:
    from hitdesk.audio.capture import RecorderSettings
    from hitdesk.audio.recovery import recover_unfinished
    from hitdesk.errors import CaptureError, HitdeskError
    from hitdesk.live import CaptureSession
    from hitdesk.model import HitModel

    out = Path(args.out) if args.out else None
    if out is not None and (problem := _check_out(out)):
        _error(problem)
        return EXIT_USAGE
    try:
        model = HitModel.load(args.model)
    except HitdeskError as exc:
        _error(str(exc))
        return EXIT_USAGE
    for old in recover_unfinished():
        if old.problem:
            _error(old.problem)
        else:
            _error(f"recovered an unfinished take: {old.path} ({_clock(old.duration_s or 0.0)})")

    settings = RecorderSettings(
        device=args.device,
        channels=None if args.channels is None else tuple(range(args.channels)),
        sample_rate=args.sample_rate,
        path=out,
        file_format=args.format,
        max_seconds=args.seconds,
    )
    window_seconds = window_seconds_for(args.window_seconds, model)
    session = CaptureSession(model, settings, window_seconds=window_seconds, picture=False)  # nothing is drawn
    try:
        status = session.open()
    except CaptureError as exc:
        _error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        session.close()  # removes the file it may have created
        raise
    if args.sample_rate and status.sample_rate != args.sample_rate:
        _error(f"'{status.device}' cannot record at {args.sample_rate} Hz; recording at {status.sample_rate} Hz.")
    channels = "+".join(str(c + 1) for c in status.channels)
    until = f"for {args.seconds:g} s (Ctrl-C stops early)" if args.seconds else "until Ctrl-C"
    print(
        f"Recording '{status.device}' input {channels} at {status.sample_rate} Hz to {status.path} {until}.",
        file=sys.stderr,
        flush=True,
    )
    with _stop_on_signals(session):
        try:
            session.start()
        except CaptureError as exc:
            _error(str(exc))
            return EXIT_FAILED
        try:
            take = _follow(session, args.json)
        except KeyboardInterrupt:
            session.stop()
            session.recorder.wait(10.0)
            _error(f"interrupted; the take is saved in {status.path} but was not scored")
            return EXIT_INTERRUPTED

    result = take.result.to_dict()
    if args.json:
        print(json.dumps(result, ensure_ascii=False), flush=True)
    else:
        from hitdesk.cli import format_human  # here, not at module level: hitdesk.cli imports this module

        sys.stdout.write(format_human([result], model.card))
        sys.stdout.flush()
    rec = take.recording
    print(f"Take saved: {take.path} ({_clock(rec.seconds)}).", file=sys.stderr)
    if rec.problem:
        _error(rec.problem)
        return EXIT_FAILED
    if take.result.error:
        _error(take.result.error)
        return EXIT_FAILED
    return EXIT_OK


def _follow(session: CaptureSession, as_json: bool) -> Take:
    """Prints live scores until the take's result is ready, and returns the take."""
    while True:
        take = session.wait(0.1)
        for score in session.new_scores():
            if as_json:
                print(json.dumps(score.to_dict()), flush=True)
            else:
                print(_live_line(score), flush=True)
        if take is not None:
            return take
