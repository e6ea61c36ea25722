"""The RESULTS folder: a Parquet dataset written in parts as work completes, never two rows for one key.

Each part is written to a hidden temporary file and renamed into place, so a reader (or the next
run) sees a part whole or not at all, whatever stops the run; readers (pyarrow, pandas, polars,
DuckDB) skip hidden files. One run at a time holds the folder's lock (``.lock``), so the keys read
at the start stay the truth: a row whose key is already there is dropped, not written twice, even
when an engine hands the same file back twice (Ray retrying a task whose worker died).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hitdesk.batch.schema import SCHEMA, table
from hitdesk.errors import HitdeskError

log = logging.getLogger(__name__)

PART_GLOB = "part-*.parquet"
# A part is written when this many rows are finished or this many seconds have passed since the last.
PART_ROWS = 256
PART_SECONDS = 30.0


class DatasetError(HitdeskError):
    """The RESULTS folder cannot be used (not a folder, locked by another run, not a HitDesk dataset)."""


class ResultsDataset:
    """The parts under ``folder``, the keys they hold and the parts still to write.

    Used as a context manager: entering takes the folder's lock and reads the keys; leaving writes
    what is finished and releases the lock.
    """

    def __init__(self, folder: Path, part_rows: int = PART_ROWS, part_seconds: float = PART_SECONDS) -> None:
        self.folder = Path(folder)
        self.part_rows = part_rows
        self.part_seconds = part_seconds
        self.keys: dict[str, bool] = {}  # key -> the row is an error row
        self.written = 0
        self._pending: list[dict[str, Any]] = []
        self._last_write = time.monotonic()
        self._lock_fd: int | None = None
        self._seq = 0

    def __enter__(self) -> ResultsDataset:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise DatasetError(f"Cannot write the results to '{self.folder}': {exc.strerror or exc}.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DatasetError(
                f"Another batch is writing to '{self.folder}'; wait for it or choose another folder."
            ) from None
        self._lock_fd = fd
        for stale in self.folder.glob(".part-*.tmp"):  # left by a run that was killed mid-write
            with contextlib.suppress(OSError):
                stale.unlink()
        self.keys = self._read_keys()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.flush()
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def parts(self) -> list[Path]:
        return sorted(self.folder.glob(PART_GLOB))

    def _read_keys(self) -> dict[str, bool]:
        keys: dict[str, bool] = {}
        for part in self.parts():
            try:
                if pq.read_schema(part).names[: len(SCHEMA.names)] != SCHEMA.names:
                    raise ValueError("its columns are not those of this version of HitDesk")
                got = pq.read_table(part, columns=["key", "error"])
            except (OSError, ValueError, pa.ArrowException) as exc:
                raise DatasetError(f"'{part}' is not a part HitDesk can resume from: {exc}.") from None
            for key, err in zip(got.column("key").to_pylist(), got.column("error").to_pylist(), strict=True):
                keys[key] = err is not None
        return keys

    def failed(self) -> set[str]:
        return {k for k, bad in self.keys.items() if bad}

    def drop(self, keys: set[str]) -> int:
        """Removes the rows of ``keys`` (failed rows about to be redone) by rewriting their parts."""
        dropped = 0
        for part in self.parts():
            got = pq.read_table(part, schema=SCHEMA)
            mask = pa.array([k not in keys for k in got.column("key").to_pylist()], pa.bool_())
            kept = got.filter(mask)
            if kept.num_rows == got.num_rows:
                continue
            dropped += got.num_rows - kept.num_rows
            if kept.num_rows:
                self._write_table(kept, part)
            else:
                part.unlink()
        for key in keys:
            self.keys.pop(key, None)
        return dropped

    def add(self, row: dict[str, Any]) -> bool:
        """Queues a finished row; False (and nothing queued) when its key is already there."""
        key = row["key"]
        if key in self.keys:
            log.info("dropping a second row for %s", row["path"])
            return False
        self.keys[key] = row["error"] is not None
        self._pending.append(row)
        if len(self._pending) >= self.part_rows or time.monotonic() - self._last_write >= self.part_seconds:
            self.flush()
        return True

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.add(row)

    def flush(self) -> None:
        """Writes the queued rows as one part."""
        self._last_write = time.monotonic()
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        self._seq += 1
        name = f"part-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{self._seq:05d}.parquet"
        self._write_table(table(rows), self.folder / name)
        self.written += len(rows)

    def _write_table(self, data: pa.Table, target: Path) -> None:
        tmp = self.folder / f".{target.stem}.{os.getpid()}.tmp"
        try:
            pq.write_table(data, tmp, compression="zstd")
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise DatasetError(f"Cannot write '{target}': {exc.strerror or exc}.") from None
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()


def read_results(folder: Path) -> pa.Table:
    """Every row of a RESULTS folder, as one table."""
    parts = sorted(Path(folder).glob(PART_GLOB))
    if not parts:
        return SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(p, schema=SCHEMA) for p in parts])
