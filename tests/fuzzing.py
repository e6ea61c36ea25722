"""Mutating audio files and decoding them in a separate process that is watched for hangs and crashes.

``Decoder`` keeps one worker interpreter (``serve``) that reads a path per line on stdin and answers
one JSON line: ``ok`` (finite samples), ``error`` (a HitdeskError, with its sentence) or ``bug`` (any
other exception, with its type). A worker that does not answer within the time limit has hung; one
whose pipe closes has crashed; either way the caller gets the outcome and a fresh worker is started.
The worker's address space is capped so a header that claims gigabytes fails in the worker, not on the
machine. Used by tests/project/test_fuzz_decode.py and bench/fuzz_decode.py.
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MEMORY_LIMIT = 3 << 30

# Values that break length arithmetic when they land in a size or count field.
INTERESTING_U32 = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0)


@dataclass(frozen=True)
class Mutation:
    kind: str  # "byte", "u32", "cut", "drop", "repeat"
    where: float  # position as a share of the region it acts on
    value: int
    tail: bool = False  # act near the end of the file (MP4 often keeps its index there)


def mutate(data: bytes, mutations: list[Mutation], header_bytes: int = 512) -> bytes:
    """Applies ``mutations`` in order; byte and field changes hit the first (or last) ``header_bytes``."""
    buf = bytearray(data)
    for m in mutations:
        if not buf:
            break
        region = min(header_bytes, len(buf))
        base = len(buf) - region if m.tail else 0
        pos = base + min(region - 1, int(m.where * region))
        if m.kind == "byte":
            buf[pos] = m.value & 0xFF
        elif m.kind == "u32":
            pos -= pos % 2
            value = INTERESTING_U32[m.value % len(INTERESTING_U32)]
            order = "<I" if m.value % 2 == 0 else ">I"
            buf[pos : pos + 4] = struct.pack(order, value)[: len(buf) - pos]
        elif m.kind == "cut":
            buf = buf[: int(m.where * len(buf))]
        elif m.kind == "drop":
            size = 1 + m.value % 64
            del buf[pos : pos + size]
        elif m.kind == "repeat":
            size = 1 + m.value % 256
            buf[pos:pos] = buf[pos : pos + size]
    return bytes(buf)


# ---------------------------------------------------------------------------------------------- worker


def _decode_everything(path: Path) -> dict[str, Any]:
    import numpy as np

    from hitdesk.audio import decode_all, iter_blocks, probe, read_excerpts, read_tags
    from hitdesk.errors import HitdeskError

    try:
        read_tags(path)
        info = probe(path)
        whole = decode_all(path)
        n_blocks = sum(1 for _ in iter_blocks(path, block_seconds=0.5))
        excerpts = read_excerpts(path, [0.0, 0.4, 5.0], 0.3)
    except HitdeskError as exc:
        return {"outcome": "error", "message": str(exc)}
    except MemoryError:
        return {"outcome": "memory"}
    except Exception as exc:
        return {"outcome": "bug", "type": type(exc).__name__, "message": str(exc)[:300]}
    arrays = [whole, *excerpts]
    if not all(a.dtype == np.float32 and a.ndim == 1 and bool(np.isfinite(a).all()) for a in arrays):
        return {"outcome": "bug", "type": "BadSamples", "message": "non-finite or malformed samples"}
    return {"outcome": "ok", "seconds": len(whole) / 22050, "format": info.format, "blocks": n_blocks}


def serve() -> None:
    """The worker loop: a path per line in, a JSON line out."""
    import logging
    import resource

    logging.disable(logging.CRITICAL)  # damaged files are expected; their warnings are noise here
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    sys.stdout.write('{"outcome": "ready"}\n')
    sys.stdout.flush()
    for line in sys.stdin:
        sys.stdout.write(json.dumps(_decode_everything(Path(line.rstrip("\n")))) + "\n")
        sys.stdout.flush()


class Decoder:
    """A watched worker process; ``check(path)`` returns its answer, or ``hang``/``crash``."""

    def __init__(self, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE), env.get("PYTHONPATH", "")])
        proc = subprocess.Popen(
            [sys.executable, "-c", "import fuzzing; fuzzing.serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # libmpg123 and FFmpeg print to stderr on damaged input
            text=True,
            env=env,
            cwd=str(REPO),
        )
        assert self._answer(proc, 120.0) == {"outcome": "ready"}
        return proc

    @staticmethod
    def _answer(proc: subprocess.Popen[str], timeout_s: float) -> dict[str, Any] | None:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
        if not ready:
            return None
        line = proc.stdout.readline()
        return json.loads(line) if line else {"outcome": "crash", "returncode": proc.wait(10)}

    def check(self, path: Path) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None
        started = time.monotonic()
        try:
            self.proc.stdin.write(f"{path}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            answer: dict[str, Any] | None = {"outcome": "crash", "returncode": self.proc.wait(10)}
        else:
            answer = self._answer(self.proc, self.timeout_s)
        if answer is None:
            self.close()
            answer = {"outcome": "hang", "timeout_s": self.timeout_s}
        elif answer["outcome"] == "crash":
            self.proc = None
        answer["elapsed_s"] = round(time.monotonic() - started, 3)
        return answer

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.communicate()
            self.proc = None


FAILURES = ("bug", "hang", "crash", "memory")
