"""A standing connection to tmux for one session, in control mode (``tmux -C``).

A tmux client process per command costs about 3 ms (fork, exec, connect);
a command over a connection that stays open about 0.1 ms. ``spawn`` types
through one, so that a ``sendline`` -> ``expect`` round trip stays well
under a millisecond.

tmux keeps a control client only while it is attached to a session, so the
connection attaches to the session it serves, with the client flags
``no-output`` (no pane output is sent to it, so nothing piles up in the
server when it is not read) and ``ignore-size``. It counts in tmux's
``session_attached``; tmuxagent counts only clients with a terminal (see
``_pane.FIELDS``). It ends when the session does.

Only tmuxagent's own words go over it: command names, a pane id and bytes in
hex (``send-keys -H``), so tmux's command parser never sees the text typed.
Each request ends with a random token that tmux prints back; a reply is the
lines up to it, so nothing a program chose (a window's name, in a
notification) can pose as one.
"""

from __future__ import annotations

import os
import re
import select
import time

from .errors import TmuxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .session import Session

#: Bytes typed through one request; more go through a tmux process (a paste
#: read from stdin), where the ~3 ms it costs no longer counts.
MOST_TYPED = 16384
#: Bytes in one ``send-keys`` command of a request.
_KEYS_AT_ONCE = 1024
#: Connections a :class:`Keyboard` makes at most (one, and again after a
#: loss: a server restart, an outage).
MOST_CONNECTIONS = 4
#: The hook that ends a session once no client is attached (tmux 3.3a's
#: ``destroy-unattached`` can crash the server when two clients leave at
#: once: fixed upstream in August 2026, tmux issue 5497).
_END_ALONE = "if -F '#{session_attached}' '' kill-session"
#: Arguments that tmux's parser takes as they are: no quotes, ``$``, ``~``,
#: ``#``, ``;`` or white space.
_PLAIN = re.compile(r"[A-Za-z0-9_%@.:/,=+-]+")


class ControlLost(Exception):
    """The connection has ended or cannot be trusted any more (closed)."""


class Control:
    """``Control(argv, env)``: a tmux control-mode client started with
    ``argv`` (``tmux ... -C attach-session -t SESSION -f ...``)."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], timeout: float) -> None:
        self.timeout = timeout
        self._owner = os.getpid()
        self._buffer = b""
        in_r, self._in = os.pipe()
        self._out, out_w = os.pipe()
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                self.pid: int | None = os.posix_spawnp(
                    argv[0], list(argv), env,
                    file_actions=[
                        (os.POSIX_SPAWN_DUP2, in_r, 0),
                        (os.POSIX_SPAWN_DUP2, out_w, 1),
                        (os.POSIX_SPAWN_DUP2, null, 2),
                    ],
                    # Its own process group: a Ctrl-C at the terminal is not
                    # for it (it would end between two requests).
                    setpgroup=0,
                )  # fmt: skip
            finally:
                os.close(null)
        except BaseException:
            os.close(self._in)
            os.close(self._out)
            raise
        finally:
            os.close(in_r)
            os.close(out_w)

    def __repr__(self) -> str:
        return f"Control(pid={self.pid})"

    def type(self, pane_id: str, data: bytes) -> bool:
        """Type ``data`` into the pane, as ``paste-buffer -r`` would: each
        byte as it is. False, with nothing typed, when the pane shows a mode
        (copy mode: keys would go to it, not to the program), when ``data``
        is longer than :data:`MOST_TYPED`, or when tmux refused (no such
        pane): the caller then types through a tmux process, which pastes
        past a mode and says why it failed."""
        if not data or len(data) > MOST_TYPED:
            return not data
        keys = " ; ".join(
            f"send-keys -t {pane_id} -H " + data[at : at + _KEYS_AT_ONCE].hex(" ")
            for at in range(0, len(data), _KEYS_AT_ONCE)
        )
        token = os.urandom(8).hex()
        # One request, one pass of tmux's queue: no human's key can come
        # between the look at the mode and the keys.
        lines = self.run(
            ["if-shell", "-F", "-t", pane_id, "#{pane_in_mode}", "", f"{keys} ; display -p {token}"]
        )
        return token in lines

    def run(self, *commands: Sequence[str]) -> list[str]:
        """Run commands; returns the lines tmux printed for them (a failed
        command's error included). The arguments are tmuxagent's own words
        (see :func:`_command`), never text a user or a program chose.
        ControlLost when the connection ended; TmuxError when tmux did not
        answer in time (the request may still run)."""
        if self.pid is None or os.getpid() != self._owner:  # a fork's copy is not its own
            raise ControlLost("the connection is closed")
        token = os.urandom(8).hex()
        line = "".join(_command(c) + " ; " for c in commands) + f"display -p {token}\n"
        try:
            self._write(line.encode())
        except BaseException:
            self.close()  # half a request sent: what follows would be read as its rest
            raise
        try:
            return self._reply(token)
        except ControlLost:
            self.close()
            raise
        # A reply not waited for (a timeout, Ctrl-C) is read past by the next
        # request, which looks for its own token.

    def close(self) -> None:
        """End the connection (tmux detaches the client) and its process."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        os.close(self._in)
        os.close(self._out)
        if os.getpid() != self._owner:
            return  # the parent's process, not ours to wait for
        deadline = time.monotonic() + 1.0
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done:
                return
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return
            time.sleep(0.001)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._in, view)
            except BrokenPipeError:
                raise ControlLost("tmux closed the connection") from None
            view = view[written:]

    def _reply(self, token: str) -> list[str]:
        """The lines tmux printed, up to ``token``'s."""
        deadline = time.monotonic() + self.timeout
        lines: list[str] = []
        inside = False
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._out], [], [], left)[0]:
                    raise TmuxError(
                        f"tmux did not answer within {round(self.timeout, 1):g}s; the server "
                        "may be stuck"
                    )
                data = os.read(self._out, 65536)
                if not data:
                    raise ControlLost("tmux closed the connection")
                self._buffer += data
                continue
            raw, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
            text = raw.decode("utf-8", "replace")
            if inside:
                if text.startswith(("%end ", "%error ")):
                    inside = False
                elif text == token:
                    return lines
                else:
                    lines.append(text)
            elif text.startswith("%begin "):
                inside = True
            elif text == "%exit" or text.startswith("%exit "):
                raise ControlLost("tmux ended the connection")


class Keyboard:
    """Typing into a session's pane over a standing connection, made now.

    A lost connection is made again, a few times in the keyboard's life;
    none is used in a forked child (the parent's is not its to write to).
    With ``ends_session``, the session ends when the connection does (a
    ``client-detached`` hook kills it once no client is attached): when
    this process does, even killed (SIGKILL), as a pty's child gets its
    hangup then; a person attached keeps it until they detach.
    """

    def __init__(self, session: Session, pane_id: str, *, ends_session: bool) -> None:
        self._session = session
        self._ends_session = ends_session
        self._owner = os.getpid()
        self._made = 0
        self._control: Control | None = None
        self._connect(pane_id)

    def type(self, pane_id: str, data: bytes) -> bool:
        """Whether ``data`` was typed (see :meth:`Control.type`): False when
        there is no connection to be had, or it did not type it."""
        control = self._connect(pane_id)
        if control is None:
            return False
        try:
            return control.type(pane_id, data)
        except ControlLost:
            self._control = None
            return False

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None

    def _connect(self, pane_id: str) -> Control | None:
        if self._control is None:
            if self._made >= MOST_CONNECTIONS or os.getpid() != self._owner:
                return None
            self._made += 1
            self._control = self._session._host.control(self._session._at.target)
            if self._ends_session:
                try:
                    self._control.run(["set-hook", "-t", pane_id, "client-detached", _END_ALONE])
                except ControlLost:
                    self._control = None
        return self._control


def _command(words: Sequence[str]) -> str:
    """A command line for tmux's parser: plain words as they are, others in
    double quotes (where only ``"``, ``\\``, ``$`` and a newline would be
    read as more than themselves: those are refused)."""
    out = []
    for word in words:
        if _PLAIN.fullmatch(word):
            out.append(word)
        elif any(c in word for c in '"\\$\n'):
            raise ValueError(f"not for tmux's parser: {word!r}")
        else:
            out.append(f'"{word}"')
    return " ".join(out)
