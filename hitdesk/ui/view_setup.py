"""What the window adds around the take panel: the View menu (the strips the user hid, remembered, and
the vectorscope's dock), and the QC profile chosen in the take panel kept in the preferences (exports
carry its checks).

Apart from ``main_window.py`` so that the window only makes one call.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from hitdesk.ui.playback import Player
from hitdesk.ui.record_panel import RecordPanel
from hitdesk.ui.scope_view import ScopeDock, scope_source
from hitdesk.ui.settings import Preferences
from hitdesk.ui.take_panel import TakePanel


def set_up_views(
    window: QMainWindow, panel: TakePanel, player: Player, recorder: RecordPanel, prefs: Preferences
) -> ScopeDock:
    """The View menu (the strips' toggles as the user left them, then the vectorscope) and the take
    panel's QC picker as the user left it (``view/qcProfile``); both remembered as they change."""
    panel.strips.set_hidden(prefs.hidden_strips)
    panel.strips.hidden_changed.connect(lambda names: setattr(prefs, "hidden_strips", names))
    panel.strips.add_menu(window.menuBar())
    panel.meters.set_profile(prefs.qc_profile)
    prefs.qc_profile = panel.meters.profile()  # "" when the remembered profile is gone
    panel.meters.qc.currentIndexChanged.connect(lambda _i: setattr(prefs, "qc_profile", panel.meters.profile()))
    return ScopeDock(window, scope_source(player, recorder), panel.strips.view_menu)
