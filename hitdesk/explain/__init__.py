"""Why a track scores as it does, in the model's view: the hit curve, what drives each score, tonal balance.

No Qt, no torch, no librosa. Sits above ``hitdesk.analysis`` and ``hitdesk.model`` (it runs the
analysis and the model) and below the command line and the app, which call ``analyze`` here
instead of ``hitdesk.analysis.analyze``.
"""

from __future__ import annotations

from hitdesk.explain.background import Background, BackgroundError, background_path, load_background
from hitdesk.explain.pipeline import analyze, analyze_file, explain

__all__ = ["Background", "BackgroundError", "analyze", "analyze_file", "background_path", "explain", "load_background"]
