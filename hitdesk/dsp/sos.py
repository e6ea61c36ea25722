"""Second-order IIR sections run over audio in place, without importing ``scipy.signal``.

The loudness meter's K-weighting is two biquads over every native sample. scipy's compiled
``_sosfilt`` does that at C speed, but importing ``scipy.signal`` (which pulls in scipy.stats,
scipy.optimize and scipy.interpolate) costs about half a second, on every ``hitdesk analyze``
command. So the compiled module is loaded from its file on its own: it needs only numpy. Should a
scipy release move or change it, the public ``scipy.signal.sosfilt`` is used instead (same
numbers, slower start-up); a test checks the two agree.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

_MODULE = "scipy.signal._sosfilt"
_kernel: Callable[[Any, Any, Any], None] | None = None


def _load_compiled() -> Callable[[Any, Any, Any], None] | None:
    """scipy's ``_sosfilt(sos, x, zi)`` (in place on C-contiguous arrays), or None when it cannot be had."""
    loaded = sys.modules.get(_MODULE)
    if loaded is None:
        import scipy

        folder = Path(scipy.__file__).parent / "signal"
        try:
            path = next(p for p in folder.iterdir() if p.name.startswith("_sosfilt.") and p.suffix in {".so", ".pyd"})
            loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(path))
            spec = importlib.util.spec_from_loader(_MODULE, loader)
            if spec is None:
                return None
            loaded = importlib.util.module_from_spec(spec)
            loader.exec_module(loaded)
        except (StopIteration, OSError, ImportError) as exc:
            log.debug("scipy's compiled sosfilt not loadable on its own (%s); using scipy.signal", exc)
            return None
        # Registered under its own name, so a later ``import scipy.signal`` reuses this module.
        sys.modules[_MODULE] = loaded
    kernel = getattr(loaded, "_sosfilt", None)
    return kernel if callable(kernel) else None


def _public(sos: Any, x: Any, zi: Any) -> None:
    import scipy.signal

    # The public function keeps the state as (sections, signals, 2), the compiled one as
    # (signals, sections, 2); ``zi`` stays in the compiled layout, so either can continue a stream.
    y, zf = scipy.signal.sosfilt(sos, x, axis=-1, zi=np.moveaxis(zi, 1, 0))
    x[...] = y
    zi[...] = np.moveaxis(zf, 0, 1)


F64 = np.float64 | np.complex128  # the kernel takes either (two real signals as one complex one)


def sosfilt_inplace(sos: npt.NDArray[F64], x: npt.NDArray[F64], zi: npt.NDArray[F64]) -> None:
    """Filters each row of ``x`` (signals, samples) in place; ``zi`` (signals, sections, 2) carries the
    state from one call to the next, so a signal cut into blocks gives what one call on it gives.

    All three arrays of one dtype, float64 or complex128, and C-contiguous; ``sos`` is (sections, 6)
    as scipy writes it.
    """
    global _kernel
    if _kernel is None:
        _kernel = _load_compiled() or _public
    try:
        _kernel(sos, x, zi)
    except (TypeError, ValueError) as exc:  # a scipy whose private kernel takes other arguments
        if _kernel is _public:
            raise
        log.debug("scipy's compiled sosfilt refused its arguments (%s); using scipy.signal", exc)
        _kernel = _public
        _kernel(sos, x, zi)
