"""The Ray engine: the file list as a Ray Data dataset, mapped by a pool of actors.

Each actor builds the work object (``hitdesk.batch.work``) once, so it holds one ONNX session, and
Ray Data's ``map_batches`` streams the files through the pool; the finished rows stream back to
``hitdesk.batch.run``, which writes the dataset's parts itself so that a part appears whole or not
at all and no key is written twice (Ray retries the block of an actor that died, and a block may
then come back twice). This is the only module that imports Ray (the ``scale`` extra).

Without ``address`` Ray starts here, embedded, and stops at the end: usage statistics off, no
dashboard, its temporary folder under HitDesk's own, token authentication with a token kept in the
environment (Ray would otherwise write one to ``~/.ray``). With ``address`` it joins a running
cluster (``ray start --head`` on one machine, ``ray start --address HEAD:6379`` on the others),
which keeps its own folders and settings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hitdesk import paths
from hitdesk.errors import HitdeskError
from hitdesk.settings_schema import machine_cores

log = logging.getLogger(__name__)

# Ray's socket paths (``<temp>/session_<date>_<pid>/sockets/plasma_store``) must fit in 107 bytes; a
# temporary folder deeper than this is reached through a short link in the system's temporary folder.
MAX_TEMP_CHARS = 40
# Files per Ray Data block: a block is the unit Ray retries, so a small one redoes little.
FILES_PER_BLOCK = 2
# Environment variables a worker on another node needs to find the same folders and settings.
FORWARDED_ENV = ("HITDESK_HOME", "HITDESK_CACHE_DIR", "HITDESK_DATA_DIR", "HITDESK_MODELS_DIR")


LOOPBACK = "127.0.0.1"
CLOSED_PROXY = f"http://{LOOPBACK}:9"  # the discard port: nothing listens there
_PROXY_ENV = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY")


class RayUnavailableError(HitdeskError):
    """Ray is not installed, or cannot start or reach the cluster."""


def check_available() -> None:
    """Raises RayUnavailableError, before any work, where Ray is not installed."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise RayUnavailableError(
            "The Ray engine needs Ray: install it with pip install 'hitdesk[scale]', or use --engine local."
        )


def _import_ray(embedded: bool) -> Any:
    """Ray, with usage statistics off and, for an instance of our own, a token of our own: both are
    read from the environment when Ray is first imported."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    own_token = embedded and "RAY_AUTH_MODE" not in os.environ
    if own_token:
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
        os.environ["RAY_AUTH_MODE"] = "token"
        if "ray" in sys.modules:  # imported before (a second batch in one process): re-read the mode
            with contextlib.suppress(ImportError, AttributeError):
                from ray._raylet import Config  # type: ignore[attr-defined]

                Config.initialize("")
    try:
        import ray
        import ray.data
    except ImportError:
        check_available()
        raise
    return ray


@contextlib.contextmanager
def _temp_folder() -> Iterator[str]:
    """Ray's temporary folder: ``ray`` in HitDesk's temporary folder (removed after the run)."""
    base = paths.temp_dir() or Path(tempfile.gettempdir())
    folder = Path(tempfile.mkdtemp(prefix="ray-", dir=base))
    link: str | None = None
    try:
        if len(str(folder)) > MAX_TEMP_CHARS:
            link = tempfile.mktemp(prefix="hitdesk-ray-")  # a name for a symbolic link, made at once
            os.symlink(folder, link)
        yield link or str(folder)
    finally:
        if link is not None:
            with contextlib.suppress(OSError):
                os.unlink(link)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _no_outside_requests() -> Iterator[None]:
    """Ray's head process asks the cloud metadata services (169.254.169.254, metadata.google.internal)
    which cloud it runs on, even with usage statistics off. While Ray starts (its processes take this
    environment), HTTP requests go through a "proxy" at a closed port of this machine, so that probe
    fails at once without leaving it; Ray's own connections, all on the loopback address, go direct."""
    saved = {k: os.environ.get(k) for k in _PROXY_ENV}
    os.environ.update({k: CLOSED_PROXY for k in _PROXY_ENV[:4]})
    os.environ.update({k: f"{LOOPBACK},localhost,::1" for k in _PROXY_ENV[4:]})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def ray_session(address: str | None, workers: int) -> Iterator[Any]:
    """Ray started embedded (``address`` None) with ``workers`` CPUs, or joined at ``address``."""
    ray = _import_ray(address is None)
    env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
    env.update(RAY_USAGE_STATS_ENABLED="0", ORT_DISABLE_TELEMETRY="1")
    # Ray gives an actor of one CPU one BLAS thread; the numbers of a float32 matrix product depend on
    # the thread count in their last digits, so a worker keeps this process's count (OpenBLAS's default
    # is one per CPU) and its results equal those of ``hitdesk analyze`` here.
    if "OMP_NUM_THREADS" in os.environ or address is None:
        env["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS", str(machine_cores()))
    common: dict[str, Any] = {
        "logging_level": logging.WARNING,
        "log_to_driver": False,
        "include_dashboard": False,
        "runtime_env": {"env_vars": env},
    }
    with contextlib.ExitStack() as stack:
        if address is None:
            temp = stack.enter_context(_temp_folder())
            stack.enter_context(_no_outside_requests())
            # Its nodes address each other on the loopback address. (Ray's GCS and raylet still listen on every
            # interface; the token is what keeps other machines out.)
            kwargs = {**common, "num_cpus": workers, "_temp_dir": temp, "_node_ip_address": LOOPBACK}
        else:
            kwargs = {**common, "address": address}
            kwargs.pop("include_dashboard")
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
            where = f"the Ray cluster at {address}" if address else "Ray on this machine"
            raise RayUnavailableError(f"Cannot start or reach {where}: {exc}.") from None
        try:
            _quiet(ray)
            yield ray
        finally:
            ray.shutdown()


def _quiet(ray: Any) -> None:
    """Progress is HitDesk's own (on stderr): Ray Data's bars and execution lines are turned off."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "Progress bars disabled"


def ray_map(
    factory: Callable[..., Any],
    kwargs: dict[str, Any],
    items: Sequence[dict[str, Any]],
    workers: int | None,
    address: str | None = None,
) -> Iterator[dict[str, Any]]:
    """``factory(**kwargs)(batch)`` over the items on a pool of ``workers`` actors (None: one per CPU
    of the cluster); rows as they finish."""
    if not items:
        return
    with ray_session(address, workers or machine_cores()) as ray:
        workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        blocks = max(1, -(-len(items) // FILES_PER_BLOCK))
        ds = ray.data.from_items(list(items), override_num_blocks=blocks)
        mapped = ds.map_batches(
            factory,
            fn_constructor_kwargs=kwargs,
            batch_size=1,
            batch_format="pyarrow",
            # Ray Data's actor pool starts an actor that died again and maps its block again.
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        for batch in mapped.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=0):
            yield from batch.to_pylist()
