"""``python -m hitdesk`` runs the command line."""

from __future__ import annotations

import sys

from hitdesk.cli import main

sys.exit(main())
