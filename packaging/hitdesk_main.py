"""Entry point of the frozen app: the same ``hitdesk`` command as the installed package.

One executable serves the app and the command line (``hitdesk``, ``hitdesk gui``, ``hitdesk analyze``).
``freeze_support`` lets ``--jobs N`` start worker processes where multiprocessing spawns a new
interpreter (Windows, macOS): there the frozen executable is started again as the worker.
"""

from __future__ import annotations

import multiprocessing
import sys

from hitdesk.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
