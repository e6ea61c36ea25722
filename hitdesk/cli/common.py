"""Exit statuses and the error line every ``hitdesk`` command uses."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def error(message: str) -> None:
    """One sentence on stderr, after the program's name."""
    print(f"hitdesk: {message}", file=sys.stderr)
