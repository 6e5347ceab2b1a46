"""tmuxagent: drive interactive terminal programs in tmux, reliably.

>>> from tmuxagent import Server
>>> server = Server()                                   # doctest: +SKIP
>>> py = server.start("py", ["python3", "-q"])           # doctest: +SKIP
>>> py.send("6 * 7", enter=True)                        # doctest: +SKIP
>>> py.wait_text(r"^42$").group()                       # doctest: +SKIP
'42'
"""

from __future__ import annotations

from ._host import default_socket
from ._records import Capture, RunResult, SessionInfo
from .errors import (
    CannotRun,
    ForeignServer,
    HostError,
    NoSuchSession,
    ProgramExited,
    ServerNotRunning,
    SessionBusy,
    SessionError,
    SessionExists,
    TmuxAgentError,
    TmuxError,
    TmuxNotFound,
    UsageError,
    WaitTimeout,
)
from .server import Server
from .session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._events import StateTracker
    from ._spawn import spawn
    from ._states import State

__version__ = "0.1.0"

__all__ = [
    "CannotRun",
    "Capture",
    "ForeignServer",
    "HostError",
    "NoSuchSession",
    "ProgramExited",
    "RunResult",
    "Server",
    "ServerNotRunning",
    "Session",
    "SessionBusy",
    "SessionError",
    "SessionExists",
    "SessionInfo",
    "State",
    "StateTracker",
    "TmuxAgentError",
    "TmuxError",
    "TmuxNotFound",
    "UsageError",
    "WaitTimeout",
    "__version__",
    "default_socket",
    "spawn",
]


def __getattr__(name: str) -> Any:
    # pexpect is only imported by those who use spawn.
    if name == "spawn":
        from ._spawn import spawn

        return spawn
    if name == "State":  # loaded by those who look at states
        from ._states import State

        return State
    if name == "StateTracker":
        from ._events import StateTracker

        return StateTracker
    raise AttributeError(f"module 'tmuxagent' has no attribute {name!r}")
