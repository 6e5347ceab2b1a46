"""Several servers as one, for the dashboard: this machine's and remote hosts'.

:class:`Hosts` answers the calls the dashboard makes of a
:class:`~tmuxagent.Server` by asking each server and naming each remote
session ``HOST/NAME`` (this machine's keep their names). A host that cannot
be reached is left out of the list until it can (and said in
:attr:`Hosts.errors`); it does not hide the others.
"""

from __future__ import annotations

from tmuxagent import Server, SessionInfo, TmuxAgentError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

    from tmuxagent import Capture, Session, State


#: Before a session of this machine whose name could be read as a host's.
HERE = "(here)/"


class Hosts:
    """``servers``: label ('' for this machine) -> server."""

    def __init__(self, servers: dict[str, Server]) -> None:
        self.servers = servers
        #: Why each host that failed at the last look did (label -> message).
        self.errors: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Hosts({', '.join(label or 'here' for label in self.servers)})"

    @property
    def socket_path(self) -> Path:
        return next(iter(self.servers.values())).socket_path

    def _split(self, full: str) -> tuple[str, str]:
        """(label, name on that server) of a name as shown."""
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

    def _by_server(self, infos: Iterable[SessionInfo]) -> dict[str, list[SessionInfo]]:
        groups: dict[str, list[SessionInfo]] = {}
        for info in infos:
            label, name = self._split(info.name)
            groups.setdefault(label, []).append(_renamed(info, name))
        return groups

    def sessions(self) -> list[SessionInfo]:
        """Every server's sessions; TmuxAgentError only when none answers."""
        found = []
        failed: TmuxAgentError | None = None
        for label, server in self.servers.items():
            try:
                infos = server.sessions()
            except TmuxAgentError as exc:
                self.errors[label] = str(exc)
                failed = failed or exc
                continue
            self.errors.pop(label, None)
            found += [_renamed(i, self._named(label, i.name)) for i in infos]
        if failed is not None and len(self.errors) == len(self.servers):
            raise failed
        return found

    def is_running(self) -> bool:
        return any(s.is_running() for label, s in self.servers.items() if label not in self.errors)

    def output_sizes(self, sessions: Iterable[SessionInfo]) -> dict[str, int]:
        sizes = {}
        for label, infos in self._by_server(sessions).items():
            for name, size in self._ask(label, "output_sizes", infos).items():
                sizes[self._named(label, name)] = size
        return sizes

    def states(self, sessions: Iterable[SessionInfo] | None = None) -> dict[str, State]:
        found = {}
        every = self.sessions() if sessions is None else sessions
        for label, infos in self._by_server(every).items():
            for name, state in self._ask(label, "states", infos).items():
                found[self._named(label, name)] = state
        return found

    def screens(
        self, names: Iterable[str], *, ansi: bool = False, history: int = 0
    ) -> dict[str, Capture]:
        groups: dict[str, list[str]] = {}
        for full in names:
            label, name = self._split(full)
            groups.setdefault(label, []).append(name)
        found = {}
        for label, group in groups.items():
            got = self._ask(label, "screens", group, ansi=ansi, history=history)
            for name, capture in got.items():
                found[self._named(label, name)] = capture
        return found

    def session(self, name: str) -> Session:
        label, local = self._split(name)
        return self.servers[label].session(local)

    def _ask(self, label: str, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """``method`` of one host's server; {} when that host fails (said in errors)."""
        try:
            return dict(getattr(self.servers[label], method)(*args, **kwargs))
        except TmuxAgentError as exc:
            self.errors[label] = str(exc)
            return {}


def _renamed(info: SessionInfo, name: str) -> SessionInfo:
    if info.name == name:
        return info
    copy = SessionInfo.__new__(SessionInfo)
    for field in SessionInfo.__slots__:
        setattr(copy, field, getattr(info, field))
    copy.name = name
    return copy
