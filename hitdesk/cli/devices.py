"""``hitdesk devices``: list audio inputs."""

from __future__ import annotations

import argparse
import json

from hitdesk.cli.common import EXIT_FAILED, EXIT_OK, OutputClosedError, emit, error
from hitdesk.present import terminal_text


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
        text = json.dumps([d.to_dict() for d in devices], ensure_ascii=False, indent=2) + "\n"
    else:
        names = [terminal_text(d.name) for d in devices]  # a device's name comes from its driver
        apis = [terminal_text(d.hostapi) for d in devices]
        name_w = max([len("name"), *(len(n) for n in names)])
        api_w = max([len("host API"), *(len(a) for a in apis)])
        lines = [f"  {'#':>3}  {'name':<{name_w}}  {'host API':<{api_w}}  {'inputs':>6}  {'default rate':>12}"]
        for d, name, api in zip(devices, names, apis, strict=True):
            mark = "*" if d.is_default else " "
            lines.append(
                f"{mark} {d.index:>3}  {name:<{name_w}}  {api:<{api_w}}  {d.channels:>6}  "
                f"{d.default_samplerate:>9.0f} Hz"
            )
        if devices:
            lines.append("* = default input")
        text = "\n".join(lines) + "\n"
    try:
        emit(text, utf8=args.json)
    except OutputClosedError as closed:
        return closed.status
    if not devices:
        error("No audio input device was found: connect a microphone or audio interface.")
        return EXIT_FAILED
    return EXIT_OK
