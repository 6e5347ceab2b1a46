"""``tmuxagent dashboard``: a Textual app to watch and take over agent sessions.

Imported only by the ``dashboard`` verb (Textual is slow to import); it uses
nothing but tmuxagent's public API.
"""

from __future__ import annotations

from .app import DashboardApp, run

__all__ = ["DashboardApp", "run"]
