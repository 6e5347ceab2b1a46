"""What the dashboard learns from tmux on each tick, off the UI thread.

One tick costs two tmux calls however many sessions there are: ``sessions()``
(one ``list-panes``) tells which sessions wrote something since the last tick
(their output byte counts), and ``screens()`` captures just those, in one
call. The naive strategy, kept for the benchmark, captures every session with
a ``capture-pane`` process of its own on every tick.

Only the public ``tmuxagent`` API is used here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from tmuxagent import Capture, Server, SessionInfo, TmuxAgentError

#: Scrollback lines captured for the session shown full-size.
FOCUS_HISTORY = 2000


@dataclass
class Snapshot:
    """One tick's findings, handed to the UI thread in one piece."""

    sessions: list[SessionInfo] = field(default_factory=list)
    #: Screens that changed since the previous tick, as Rich Text lines.
    screens: dict[str, list[Text]] = field(default_factory=dict)
    #: The focused session's screen with scrollback, when it changed.
    focused: list[Text] | None = None
    #: The view ``focused`` was fetched for (see :meth:`Refresher.tick`).
    focused_for: tuple[str, int] | None = None
    #: Set when the server could not be asked (not running, tmux failing).
    error: str | None = None


def to_lines(capture: Capture) -> list[Text]:
    """Parse a capture's ANSI colours into Rich Text, one per row."""
    return [Text.from_ansi(row, end="") for row in capture.text.split("\n")]


class Refresher:
    """Keeps what was seen, so each tick fetches only what changed."""

    def __init__(self, server: Server, *, naive: bool = False) -> None:
        self.server = server
        self.naive = naive
        self._seen: dict[str, tuple[int, bool, int, int]] = {}
        self._texts: dict[str, str] = {}
        self._focused: tuple[tuple[str, int], int] | None = None

    def tick(self, focused: tuple[str, int] | None = None) -> Snapshot:
        """What changed since the last tick. ``focused`` is the full-size view, as
        (session name, view number): a new view gets the whole screen again."""
        try:
            sessions = self.server.sessions()
        except TmuxAgentError as exc:
            self._seen.clear()
            self._texts.clear()
            return Snapshot(error=str(exc))
        if not sessions and not self.server.is_running():
            self._seen.clear()
            self._texts.clear()
            return Snapshot(
                error=f"the tmuxagent server is not running on {self.server.socket_path}; "
                "'tmuxagent start NAME' starts it"
            )
        changed = []
        seen = {}
        for info in sessions:
            key = (info.output_bytes, info.alive, info.cols, info.rows)
            seen[info.name] = key
            if self._seen.get(info.name) != key:
                changed.append(info.name)
        self._seen = seen
        try:
            if self.naive:
                captures = {}
                for info in sessions:  # one capture-pane process per session
                    try:
                        captures[info.name] = self.server.session(info.name).capture(ansi=True)
                    except TmuxAgentError:
                        continue
            else:
                captures = self.server.screens(changed, ansi=True)
        except TmuxAgentError as exc:
            return Snapshot(sessions=sessions, error=str(exc))
        screens = {}
        for name, capture in captures.items():
            if self._texts.get(name) != capture.text:  # only changed previews re-render
                self._texts[name] = capture.text
                screens[name] = to_lines(capture)
        for name in set(self._texts) - set(seen):
            del self._texts[name]
        return Snapshot(sessions, screens, self._focus(focused, seen), focused_for=focused)

    def _focus(
        self, view: tuple[str, int] | None, seen: dict[str, tuple[int, bool, int, int]]
    ) -> list[Text] | None:
        if view is None or view[0] not in seen:
            self._focused = None
            return None
        name = view[0]
        state = (view, hash(seen[name]))
        if self._focused == state:
            return None
        try:
            capture = self.server.screens([name], ansi=True, history=FOCUS_HISTORY).get(name)
        except TmuxAgentError:
            return None
        if capture is None:
            return None
        self._focused = state
        lines = to_lines(capture)
        while lines and not lines[-1].plain.strip():
            lines.pop()
        return lines
