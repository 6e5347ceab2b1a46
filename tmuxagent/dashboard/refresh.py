"""What the dashboard learns from tmux on each tick, off the UI thread.

A tick costs at most two tmux calls however many sessions there are:
``sessions()`` (one ``list-panes``, every FULL_EVERY seconds; between them
``output_sizes()``, which reads the logs' sizes and asks tmux nothing) tells
which sessions wrote something since the last tick, and ``screens()``
captures those of them whose preview is on screen, in one call (the others
when they come into view).
Rows stay as tmux gave them (text with colour sequences): the widgets parse
only the rows they show. The naive strategy, kept for the benchmark,
captures every session with a ``capture-pane`` process of its own on every
tick.

Only the public ``tmuxagent`` API is used here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field

from tmuxagent import Server, SessionInfo, State, StateTracker, TmuxAgentError

#: Scrollback lines captured for the session shown full-size.
FOCUS_HISTORY = 2000
#: Seconds between full looks at the sessions (which there are, their
#: status); ticks between them only see how much each one has written.
FULL_EVERY = 0.5
#: Seconds between two fetches of one session's screen: a change is fetched
#: at the next tick if the last fetch was longer ago, else once it is (a
#: session that prints all the time is shown 5 times a second, not 10).
PREVIEW_EVERY = 0.2
#: Seconds between two looks at the states (of the sessions whose state
#: may have changed: see StateTracker), at full looks.
STATES_EVERY = 1.0

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hosts import Hosts


#: A colour (SGR) sequence.
_SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def carry_colours(rows: list[str]) -> list[str]:
    """The rows of a ``capture-pane -e``, each starting with the colours in
    force where it starts: tmux sets a colour once, and the rows after it
    keep it, while a row is parsed on its own (and kept by its content)."""
    carried: list[str] = []  # the sequences since the last reset
    out = []
    for row in rows:
        out.append("".join(carried) + row if carried else row)
        for found in _SGR.finditer(row):
            params = found[1]
            if params in ("", "0"):
                carried = []
            elif params.startswith("0;"):
                carried = [found[0]]
            elif len(carried) < 16:
                carried.append(found[0])
            else:  # a long run without a reset: keep it bounded
                carried = [*carried[1:], found[0]]
    return out


@dataclass
class Snapshot:
    """One tick's findings, handed to the UI thread in one piece."""

    sessions: list[SessionInfo] = field(default_factory=list)
    #: Screens that changed since the previous tick: rows with colour sequences.
    screens: dict[str, list[str]] = field(default_factory=dict)
    #: The focused session's screen with scrollback, when it changed.
    focused: list[str] | None = None
    #: The view ``focused`` was fetched for (see :meth:`Refresher.tick`).
    focused_for: tuple[str, int] | None = None
    #: Set when the server could not be asked (not running, tmux failing).
    error: str | None = None
    #: Each session's state (as of the last full look).
    states: dict[str, State] = field(default_factory=dict)
    #: Sessions that have just started asking a question.
    asking: list[str] = field(default_factory=list)
    #: Why some hosts' sessions are missing or as last seen (see Hosts.errors).
    warnings: list[str] = field(default_factory=list)


class Refresher:
    """Keeps what was seen, so each tick fetches only what changed."""

    def __init__(self, server: Server | Hosts, *, naive: bool = False) -> None:
        self.server = server
        self.naive = naive
        self._seen: dict[str, tuple[int, bool, int, int]] = {}
        self._texts: dict[str, str] = {}
        self._focused: tuple[tuple[str, int], int] | None = None
        self._sessions: list[SessionInfo] | None = None  # the last full look
        self._fetched: dict[str, float] = {}  # when each screen was last fetched
        self._full_at = 0.0
        self._tracker = StateTracker(server)
        self._states_at = 0.0  # when states are looked at next
        self._states_looked = False

    def tick(
        self, focused: tuple[str, int] | None = None, shown: Collection[str] | None = None
    ) -> Snapshot:
        """What changed since the last tick. ``focused`` is the full-size view, as
        (session name, view number): a new view gets the whole screen again.
        ``shown``: the sessions whose previews are on screen (None: all); the
        screens of the others are fetched once they are shown."""
        asking: list[str] = []
        try:
            if self._sessions is None or time.monotonic() >= self._full_at:
                self._sessions = None  # until this look succeeds
                sessions = self.server.sessions()
                self._full_at = time.monotonic() + FULL_EVERY
                self._sessions = sessions
                sizes = {info.name: info.output_bytes for info in sessions}
                if time.monotonic() >= self._states_at:
                    self._states_at = time.monotonic() + STATES_EVERY
                    asking = self._look_at_states(sessions)
            else:
                sessions = self._sessions
                sizes = self.server.output_sizes(sessions)
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
        now = {
            i.name: (sizes.get(i.name, i.output_bytes), i.alive, i.cols, i.rows) for i in sessions
        }
        clock = time.monotonic()
        for info in sessions:
            key = now[info.name]
            before = self._seen.get(info.name)
            due = self.naive or (
                (shown is None or info.name in shown)
                and clock >= self._fetched.get(info.name, 0.0) + PREVIEW_EVERY
            )
            if before != key and due:
                changed.append(info.name)
                self._fetched[info.name] = clock
            elif before is None:
                continue  # never fetched: still to do when it is shown
            else:
                key = before  # what was fetched: unchanged, or to fetch when shown
            seen[info.name] = key
        self._seen = seen
        self._fetched = {name: at for name, at in self._fetched.items() if name in seen}
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
            return Snapshot(sessions=sessions, error=str(exc),
                            states=dict(self._tracker.states), asking=asking)  # fmt: skip
        if len(captures) < len(changed):
            self._full_at = 0.0  # some are gone: look at them all next time
        screens = {}
        for name, capture in captures.items():
            if self._texts.get(name) != capture.text:  # only changed previews re-render
                self._texts[name] = capture.text
                screens[name] = carry_colours(capture.text.split("\n"))
        for name in set(self._texts) - {info.name for info in sessions}:
            del self._texts[name]
        return Snapshot(
            sessions, screens, self._focus(focused, now), focused_for=focused,
            states=dict(self._tracker.states), asking=asking,
            warnings=sorted(getattr(self.server, "errors", {}).values()),
        )  # fmt: skip

    def _look_at_states(self, sessions: list[SessionInfo]) -> list[str]:
        """Look again at the states that may have changed; return the
        sessions that have just started asking (or ask something else now; not
        those that were asking when the dashboard started)."""
        asking = []
        for name, (was, state) in self._tracker.update(sessions).items():
            if state.state != "asking":
                continue
            if was is None:  # a new session (or one started again under its name)
                if self._states_looked:
                    asking.append(name)
            elif was.state != "asking" or was.detail != state.detail:
                asking.append(name)
        self._states_looked = True
        return asking

    def _focus(
        self, view: tuple[str, int] | None, now: dict[str, tuple[int, bool, int, int]]
    ) -> list[str] | None:
        if view is None or view[0] not in now:
            self._focused = None
            return None
        name = view[0]
        state = (view, hash(now[name]))
        if self._focused == state:
            return None
        try:
            capture = self.server.screens([name], ansi=True, history=FOCUS_HISTORY).get(name)
        except TmuxAgentError:
            return None
        if capture is None:
            return None
        self._focused = state
        return carry_colours(capture.text.split("\n"))
