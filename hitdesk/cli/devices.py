"""``hitdesk devices``: list audio inputs."""

from __future__ import annotations

import argparse
import json

from hitdesk.cli.common import EXIT_FAILED, EXIT_OK, error


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dev = sub.add_parser(
        "devices",
        help="list audio inputs",
        description="List audio input devices: number, name, host API, channels, default rate; * marks the default.",
    )
    dev.add_argument("--json", action="store_true", help="print a JSON list")
    dev.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hitdesk.capture.devices import scan_input_devices
    from hitdesk.errors import CaptureError

    try:
        devices = scan_input_devices(None)
    except CaptureError as exc:
        error(str(exc))
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
        error("No audio input device was found: connect a microphone or audio interface.")
        return EXIT_FAILED
    return EXIT_OK
