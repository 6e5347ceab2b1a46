"""A tmux server's socket on this machine, and whether it can be trusted.

Used by the local host (``_host.py``) before every tmux call.
"""

from __future__ import annotations

import os

from ._poll import poll_until
from .errors import ForeignServer


class Socket:
    """The socket at ``path``: checked to be the caller's own, and brought
    back when it was deleted under a running server."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._path_checked = False

    def check_path(self) -> None:
        """ForeignServer if another user could put a socket of theirs (or the
        lock file tmux makes beside it) where this one is, or swap a directory
        on the way to it: checked before every first call, since a check of
        the socket alone cannot catch a swap between the check and tmux's
        connect."""
        from ._files import unsafe_path

        reason = unsafe_path(os.path.dirname(self.path))
        if reason:
            raise ForeignServer(
                f"refusing the tmux socket {self.path}: {reason}, so another user "
                "could put a server of theirs in its place; use a directory of your own "
                "(-S, or TMUXAGENT_SOCKET_DIR)"
            )
        self._path_checked = os.path.isdir(os.path.dirname(self.path))

    def check(self) -> bool:
        """Whether the socket exists; TmuxError if it is not the caller's own.

        tmux lets root into every user's server, and a user into a server of
        theirs that granted access: a socket of someone else's (planted where
        others can write, such as /tmp) would hear every key sent and run
        every program started, as its owner. The socket file is made by the
        server, so its owner is the server's.
        """
        import stat

        from ._files import owned_lstat

        if not self._path_checked:
            self.check_path()
        try:
            st = owned_lstat(self.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ForeignServer(f"refusing the tmux socket {self.path}: {exc.strerror}") from None
        if not stat.S_ISSOCK(st.st_mode):
            raise ForeignServer(f"refusing {self.path}: it is not a socket")
        if st.st_uid != os.geteuid():
            raise ForeignServer(
                f"refusing the tmux server at {self.path}: it belongs to uid "
                f"{st.st_uid}, not to you (uid {os.geteuid()}), and would see everything sent "
                "to it; use a socket of your own (-S in a directory only you can write)"
            )
        return True

    def revive(self) -> bool:
        """Bring back a server whose socket file was deleted.

        The server keeps running, unreachable; SIGUSR1 makes tmux create its
        socket again.
        """
        import signal

        from . import _procs

        if os.path.exists(self.path):
            return False
        servers = _procs.tmux_servers(self.path)
        if not servers:
            return False
        # A server another call is starting right now has no socket yet, and
        # SIGUSR1 would disturb it: give it a moment to make its own.
        if poll_until(lambda: os.path.exists(self.path), 0.5, interval=0.01):
            return True
        for pid in servers:
            _procs.send(pid, signal.SIGUSR1)
            if poll_until(lambda: os.path.exists(self.path), 2.0, interval=0.01):
                return True
        return False
