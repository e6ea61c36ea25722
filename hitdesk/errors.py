"""Exceptions whose message is one sentence a user can act on."""

from __future__ import annotations


class HitdeskError(Exception):
    """Base class: ``str(error)`` is shown to the user as it is."""


class InputNotFoundError(HitdeskError):
    pass


class DecodeError(HitdeskError):
    """The file cannot be read as audio (not audio, damaged, unsupported)."""


class TooShortError(HitdeskError):
    pass


class SilentTrackError(HitdeskError):
    pass


class ModelError(HitdeskError):
    """The model files are missing, damaged, or do not match this version's features."""


class CaptureError(HitdeskError):
    pass


class AnalysisCancelledError(Exception):
    """The caller asked an analysis to stop; not a problem with the file, so not a HitdeskError."""


class TemporaryFileError(HitdeskError):
    """An analysis's temporary file cannot be made or written (no room, no permission)."""


class SettingsFileError(HitdeskError):
    """A user's platform presets or QC profile cannot be used (unreadable, not TOML, a wrong value)."""
