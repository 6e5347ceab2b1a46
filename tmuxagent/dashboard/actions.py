"""What the dashboard does to one session: send a line or keys, kill, attach, show its log.

The base of :class:`~tmuxagent.dashboard.app.DashboardApp`, which binds the keys.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable

from textual import work
from textual.app import App, SuspendNotSupported

from tmuxagent import Server, TmuxAgentError

from .screens import AskScreen, ConfirmScreen, FocusScreen, LogScreen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hosts import Hosts


class SessionActions(App[None]):
    """Actions on the session shown full-size, else on the selected one."""

    def __init__(self, server: Server | Hosts) -> None:
        super().__init__()
        self.server = server
        #: The session selected in the list and the grid.
        self.selected: str | None = None

    def _target(self) -> str | None:
        if isinstance(self.screen, FocusScreen):
            return self.screen.session_name
        if self.selected is None:
            self.notify("no session selected", severity="warning")
        return self.selected

    def action_send_line(self) -> None:
        name = self._target()
        if name is None:
            return

        def send(text: str | None) -> None:
            if text is not None:
                self._act(name, lambda s: s.send(text, enter=True), "sent")

        self.push_screen(AskScreen(f"Type into {name} (Enter sends it, with Enter)"), send)

    def action_send_keys(self) -> None:
        name = self._target()
        if name is None:
            return

        def press(keys: str | None) -> None:
            if keys:
                self._act(name, lambda s: s.keys(*keys.split()), "pressed")

        self.push_screen(
            AskScreen(f"Keys for {name}", "C-c   or   Up Enter   or   Escape :q Enter"), press
        )

    def action_kill(self) -> None:
        name = self._target()
        if name is None:
            return

        def kill(yes: bool | None) -> None:
            if yes:
                if isinstance(self.screen, FocusScreen):
                    self.pop_screen()
                self._act(name, lambda s: s.kill(), "killed")

        self.push_screen(ConfirmScreen(f"Kill session {name!r} and its program?"), kill)

    def action_attach_command(self) -> None:
        name = self._target()
        if name is None:
            return
        try:
            command = shlex.join(self.server.session(name).attach_command())
        except TmuxAgentError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.copy_to_clipboard(command)
        self.notify(command, title="attach command (copied)", timeout=10, markup=False)

    def action_attach(self) -> None:
        name = self._target()
        if name is None:
            return
        try:
            command = self.server.session(name).attach_command()
        except TmuxAgentError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        try:
            with self.suspend():
                subprocess.run(command, check=False)  # back here on detach
        except SuspendNotSupported:
            self.notify(
                f"cannot attach from here; run: {shlex.join(command)}",
                severity="warning", markup=False,
            )  # fmt: skip

    def action_show_log(self) -> None:
        name = self._target()
        if name is None:
            return
        try:
            session = self.server.session(name)
            text = session.transcript()
            path = str(session.log_path)
        except TmuxAgentError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(LogScreen(name, text, path))

    @work(thread=True, group="actions")
    def _act(self, name: str, action: Callable[..., object], done: str) -> None:
        """Run ``action`` on the session off the UI thread; it reads no Textual state."""
        try:
            action(self.server.session(name))
        except TmuxAgentError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
        else:
            self.call_from_thread(self.notify, f"{done}: {name}", timeout=2)
