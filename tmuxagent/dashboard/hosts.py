"""Several servers as one, for the dashboard: this machine's and remote hosts'.

:class:`Hosts` answers the calls the dashboard makes of a
:class:`~tmuxagent.Server` by asking each server and naming each remote
session ``HOST/NAME`` (this machine's keep their names). The hosts are
asked at once, each by a thread of its own, and a call waits for them at
most BUDGET seconds: a host that has not answered by then is not asked
again until it has (its sessions stay as last seen, marked in
:attr:`Hosts.errors`). A host that fails is left out of the list until it
answers again (said in :attr:`Hosts.errors`); neither hides the others.
"""

from __future__ import annotations

import functools
import queue
import threading
import time

from tmuxagent import HostError, Server, ServerNotRunning, SessionInfo, TmuxAgentError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from typing import Any

    from tmuxagent import Capture, Session, State


#: Before a session of this machine whose name could be read as a host's.
HERE = "(here)/"
#: Seconds a call waits for the hosts' answers.
BUDGET = 1.0


class _Asker:
    """A thread that makes one host's calls, one at a time."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_Answer] = queue.SimpleQueue()
        threading.Thread(target=self._run, daemon=True).start()
        self.busy: _Answer | None = None  # a call not answered in time

    def ask(self, call: Callable[[], Any]) -> _Answer:
        answer = _Answer(call)
        self._calls.put(answer)
        return answer

    def _run(self) -> None:
        while True:
            answer = self._calls.get()
            try:
                answer.value = answer.call()
            except TmuxAgentError as exc:
                answer.error = exc
            except Exception as exc:  # a bug: said, not a dead thread
                answer.error = TmuxAgentError(f"{type(exc).__name__}: {exc}")
            answer.done.set()


class _Answer:
    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call
        self.done = threading.Event()
        self.value: Any = None
        self.error: TmuxAgentError | None = None
        self.since = time.monotonic()


class Hosts:
    """``servers``: label ('' for this machine) -> server."""

    def __init__(self, servers: dict[str, Server]) -> None:
        self.servers = servers
        #: Why each host that failed, or is slow to answer, did (label -> message).
        self.errors: dict[str, str] = {}
        self._askers = {label: _Asker() for label in servers if label}
        self._listed: dict[str, list[SessionInfo]] = {}  # label -> its sessions, as shown
        self._origin: dict[str, tuple[str, SessionInfo]] = {}  # shown -> label, host's record

    def __repr__(self) -> str:
        return f"Hosts({', '.join(label or 'here' for label in self.servers)})"

    @property
    def socket_path(self) -> Path:
        return next(iter(self.servers.values())).socket_path

    def _split(self, full: str) -> tuple[str, str]:
        """(label, name on that server) of a name as shown."""
        known = self._origin.get(full)  # (read once: the refresh thread replaces it)
        if known is not None:
            return known[0], known[1].name
        if full.startswith(HERE):
            return "", full[len(HERE) :]
        for label in sorted(self.servers, key=len, reverse=True):  # 'ssh://h' holds a '/'
            if label and full.startswith(label + "/"):
                return label, full[len(label) + 1 :]
        return "", full

    def _named(self, label: str, name: str) -> str:
        """A session's name as shown: HOST/NAME, or this machine's own name
        (marked when it could be read as a host's: a local 'hostone/x')."""
        if label:
            return f"{label}/{name}"
        clash = name.startswith(HERE) or any(
            other and name.startswith(other + "/") for other in self.servers
        )
        return HERE + name if clash else name

    def _ask_all(self, calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        """Each server's answer to its call: a value, or the TmuxAgentError it
        raised; a host that has not answered an earlier call is not asked
        (nor waited for: it is left out), one whose late answer was an
        error answers that."""
        answers: dict[str, _Answer] = {}
        found: dict[str, Any] = {}
        for label, call in calls.items():
            asker = self._askers.get(label)
            if asker is None:
                continue
            late = asker.busy
            if late is not None:
                waited = self._waited(label)
                if waited is not None:
                    self.errors[label] = f"{label}: no answer for {waited:.0f} s"
                    continue
                asker.busy = None
                if late.error is not None:  # it failed: so does this call
                    found[label] = late.error
                    continue
            answers[label] = asker.ask(call)
        if "" in calls:  # this machine's, meanwhile
            try:
                found[""] = calls[""]()
            except TmuxAgentError as exc:
                found[""] = exc
        deadline = time.monotonic() + BUDGET
        for label, answer in answers.items():
            if answer.done.wait(max(0.0, deadline - time.monotonic())):
                found[label] = answer.error or answer.value
            else:
                self._askers[label].busy = answer
                self.errors[label] = f"{label}: no answer in {BUDGET:g} s"
        return found

    def sessions(self) -> list[SessionInfo]:
        """Every server's sessions (a slow host's as last seen); TmuxAgentError
        only when none answers."""
        got = self._ask_all({label: server.sessions for label, server in self.servers.items()})
        failed: TmuxAgentError | None = None
        for label in self.servers:
            if label not in got:  # slow: as last seen
                continue
            infos = got[label]
            if not label and isinstance(infos, ServerNotRunning):
                infos = []  # none here (yet): not worth a warning beside the hosts'
            if isinstance(infos, TmuxAgentError):
                self.errors[label] = str(infos)
                failed = failed or infos
                self._listed.pop(label, None)
                continue
            self.errors.pop(label, None)
            self._listed[label] = [_renamed(i, self._named(label, i.name)) for i in infos]
            for shown, info in zip(self._listed[label], infos, strict=True):
                self._origin[shown.name] = (label, info)
        if failed is not None and len(self.errors) == len(self.servers):
            raise failed
        found = [info for label in self.servers for info in self._listed.get(label, [])]
        names = {info.name for info in found}
        self._origin = {k: v for k, v in self._origin.items() if k in names}
        return found

    def is_running(self) -> bool:
        return any(s.is_running() for label, s in self.servers.items()
                   if label not in self.errors and self._waited(label) is None)  # fmt: skip

    def _waited(self, label: str) -> float | None:
        """How long a call to that host has been waiting for its answer (None: none is)."""
        asker = self._askers.get(label)
        late = asker.busy if asker is not None else None
        if late is None or late.done.is_set():
            return None
        return time.monotonic() - late.since

    def _by_server(self, infos: Iterable[SessionInfo]) -> dict[str, list[SessionInfo]]:
        """The servers' own records of sessions as shown."""
        groups: dict[str, list[SessionInfo]] = {}
        for info in infos:
            if info.name in self._origin:
                label, own = self._origin[info.name]
            else:
                label, name = self._split(info.name)
                own = _renamed(info, name)
            groups.setdefault(label, []).append(own)
        return groups

    def output_sizes(self, sessions: Iterable[SessionInfo]) -> dict[str, int]:
        return self._each("output_sizes", self._by_server(sessions))

    def states(self, sessions: Iterable[SessionInfo] | None = None) -> dict[str, State]:
        every = self.sessions() if sessions is None else sessions
        return self._each("states", self._by_server(every))

    def screens(
        self, names: Iterable[str], *, ansi: bool = False, history: int = 0
    ) -> dict[str, Capture]:
        groups: dict[str, list[str]] = {}
        for full in names:
            label, name = self._split(full)
            groups.setdefault(label, []).append(name)
        return self._each("screens", groups, ansi=ansi, history=history)

    def _each(self, method: str, groups: dict[str, Any], **options: Any) -> dict[str, Any]:
        """``method`` of each server, for its group: the answers by names as
        shown; a host that fails or is slow answers nothing (said in errors)."""
        calls: dict[str, Callable[[], Any]] = {}
        for label, group in groups.items():
            calls[label] = functools.partial(getattr(self.servers[label], method), group, **options)
        found = {}
        for label, got in self._ask_all(calls).items():
            if isinstance(got, TmuxAgentError):
                self.errors[label] = str(got)
                continue
            for name, value in got.items():
                found[self._named(label, name)] = value
        return found

    def session(self, name: str) -> Session:
        """The session; HostError at once if its host has not answered a call
        yet (an action would wait for it, freezing the screen)."""
        label, local = self._split(name)
        waited = self._waited(label)
        if waited is not None:
            raise HostError(f"{label}: no answer for {waited:.0f} s; try again once it answers")
        return self.servers[label].session(local)


def _renamed(info: SessionInfo, name: str) -> SessionInfo:
    if info.name == name:
        return info
    copy = SessionInfo.__new__(SessionInfo)
    for field in SessionInfo.__slots__:
        setattr(copy, field, getattr(info, field))
    copy.name = name
    return copy
