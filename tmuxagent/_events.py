"""What happens to sessions, as it happens: started, state changes, exited, gone.

No daemon: the watcher is whoever asks (``tmuxagent events``, the API's
``Server.events()``). It costs little while nothing happens: the logs'
sizes and the sessions' directory are looked at four times a second (no
tmux call); the list of sessions when they changed (at most once a second,
at least every 5 s); a session's screen only when it wrote something, while
its state may still change with time after it wrote (a prompt counts once
the program has been quiet a moment), and every few seconds (a program may
start or stop waiting for input without a word).
"""

from __future__ import annotations

import os
import time

from ._states import ACTIVE, State

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from typing import Any, Protocol

    from ._records import SessionInfo
    from .server import Server

    class HasStates(Protocol):
        """What StateTracker asks: a Server, or what stands for several."""

        def states(self, sessions: Iterable[SessionInfo] | None = None) -> dict[str, State]: ...


#: Seconds between looks at the logs' sizes.
TICK = 0.25
#: Seconds between looks at the list of sessions, at most (when a session
#: may have come, gone or ended) and at least.
LIST_EVERY = 1.0
LIST_LATEST = 5.0
#: Seconds after a session last wrote during which its screen is looked at
#: each tick (rules wait for quiet up to about a second).
SETTLING = ACTIVE + 1.0
#: Seconds between looks at a session that has been quiet longer.
QUIET_EVERY = 3.0


class StateTracker:
    """The states of sessions, looked at again only when they may have
    changed: when a session wrote something, for a while after it wrote
    (a rule may wait for quiet), and every :data:`QUIET_EVERY` seconds (a
    program may start or stop waiting for input without a word). For
    watchers that ask often (``events``, dashboards).
    """

    def __init__(self, server: Server | HasStates) -> None:
        self.server = server
        #: The latest state of each session looked at.
        self.states: dict[str, State] = {}
        self._sizes: dict[str, int] = {}
        self._looked: dict[str, float] = {}
        self._started: dict[str, tuple[float, str]] = {}

    def update(
        self, sessions: Iterable[SessionInfo], sizes: Mapping[str, int] | None = None
    ) -> dict[str, tuple[State | None, State]]:
        """Look at those of ``sessions`` (as ``Server.sessions()`` gave them)
        that are due, in one tmux call; ``sizes``: their output sizes now
        (``Server.output_sizes()``; default: as ``sessions`` say). Returns
        (before, now) of each session looked at; sessions not in
        ``sessions`` are forgotten."""
        infos = {info.name: info for info in sessions}
        current = (
            dict(sizes) if sizes is not None else {n: i.output_bytes for n, i in infos.items()}
        )
        now, wall = time.monotonic(), time.time()
        due = [
            info
            for name, info in infos.items()
            if name not in self.states
            or current.get(name) != self._sizes.get(name)
            or wall - info.last_output < SETTLING
            or now - self._looked[name] >= QUIET_EVERY
        ]
        for name, info in infos.items():  # one started again under its name is new
            started = (info.created, info.log)  # its log is its own, even within a second
            if self._started.setdefault(name, started) != started:
                self._started[name] = started
                self.states.pop(name, None)
        for gone in set(self.states) - set(infos):
            del self.states[gone]
            self._looked.pop(gone, None)
            self._sizes.pop(gone, None)
            self._started.pop(gone, None)
        if not due:
            return {}
        changes = {}
        for name, state in self.server.states(due).items():
            self._looked[name] = now
            self._sizes[name] = current.get(name, infos[name].output_bytes)  # as of this look
            changes[name] = (self.states.get(name), state)
            self.states[name] = state
        return changes


def events(
    server: Server, names: Iterable[str] = (), *, timeout: float | None = None
) -> Iterator[dict[str, Any]]:
    """Events as dicts, as they happen, until ``timeout`` seconds have
    passed (None: for ever): first each session's state (``previous`` None),
    then what changes. ``names`` limits them to those sessions (one not
    there yet is ``started`` when it comes)."""
    from ._names import validate_name
    from ._poll import check_timeout

    wanted = {validate_name(name) for name in names}
    end = None if timeout is None else time.monotonic() + check_timeout(timeout)
    known: dict[str, SessionInfo] = {}
    tracker = StateTracker(server)
    first = True
    listed_at = -LIST_EVERY
    listed: tuple[tuple[tuple[str, int], ...], int] = ((), 0)
    while True:
        now = time.monotonic()
        # The list only when a session may have come, gone or ended: the
        # sessions' directory changed, or a log grew (a program's end is
        # written to it); at most once a LIST_EVERY, at least once a LIST_LATEST.
        sizes = server.output_sizes(known.values())
        stamp = (tuple(sorted(sizes.items())), _stamp(server))
        due = now - listed_at >= (LIST_EVERY if stamp != listed else LIST_LATEST)
        if first or due:
            listed_at, listed = now, stamp
            infos = {i.name: i for i in server.sessions() if not wanted or i.name in wanted}
            for name, info in infos.items():  # gone, and another of the name started
                old = known.get(name)
                if old is not None and old.created != info.created:
                    yield _event(name, "gone")
                    del known[name]
                    tracker.states.pop(name, None)
            for name in sorted(set(known) - set(infos)):
                yield _event(name, "gone")
            for name, info in infos.items():
                old = known.get(name)
                if old is None and not first:
                    yield _event(name, "started", command=info.command, pid=info.pid)
                if old is not None and old.alive and not info.alive:
                    how = {"exit_status": info.exit_status, "signal": info.signal}
                    yield _event(name, "exited", **how)
            known = infos
            sizes = server.output_sizes(known.values())
        changes = tracker.update(known.values(), sizes)
        for name, (before, state) in sorted(changes.items()):
            # Each session's state when the watching starts (previous: None),
            # then its changes; an end is said once, as "exited".
            if before is None or before.state != state.state != "exited":
                yield _event(
                    name, "state", state=state.state,
                    previous=None if before is None else before.state,
                    detail=state.detail, profile=state.profile,
                )  # fmt: skip
        first = False
        left = None if end is None else end - time.monotonic()
        if left is not None and left <= 0:
            return
        time.sleep(TICK if left is None else min(TICK, left))


def _stamp(server: Server) -> int:
    """When the sessions' directory last changed (a session made or removed)."""
    try:
        return os.stat(server.state_root).st_mtime_ns
    except OSError:
        return 0


def _event(name: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"session": name, "event": kind, **fields, "time": round(time.time(), 3)}
