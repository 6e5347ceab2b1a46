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
import sys
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
        self._in, self._out, pid = _start(argv, env, reply=True)
        self.pid: int | None = pid
        os.set_blocking(self._in, False)

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
        take the request or answer in time: a request it took may still
        run once tmux answers again (a stopped server)."""
        if self.pid is None or os.getpid() != self._owner:  # a fork's copy is not its own
            raise ControlLost("the connection is closed")
        token = os.urandom(8).hex()
        line = "".join(_command(c) + " ; " for c in commands) + f"display -p {token}\n"
        deadline = time.monotonic() + self.timeout
        self._write(line.encode(), deadline)
        try:
            return self._reply(token, deadline)
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
        os.close(self._in)  # tmux reads this pipe itself: its end detaches the client
        os.close(self._out)
        if os.getpid() == self._owner:  # else the parent's process, not ours to wait for
            # A forked child may hold the pipe open: then the client goes by signal.
            _end(pid, 0.1)

    def _write(self, data: bytes, deadline: float) -> None:
        """Write a request whole, or not at all: a part of one would be read
        with the next as one line, so a connection that took a part (a
        timeout, Ctrl-C) is closed."""
        view = memoryview(data)
        try:
            while view:
                try:
                    written = os.write(self._in, view)
                except BlockingIOError:  # tmux is not reading: it may be stopped
                    if not _ready(self._in, select.POLLOUT, deadline):
                        raise self._late() from None
                    continue
                except BrokenPipeError:
                    raise ControlLost("tmux closed the connection") from None
                view = view[written:]
        except BaseException:
            partly = len(view) not in (0, len(data))
            if partly or isinstance(sys.exc_info()[1], ControlLost):
                self.close()
            raise

    def _late(self) -> TmuxError:
        return TmuxError(
            f"tmux did not answer within {round(self.timeout, 1):g}s; the server may be stuck "
            "(what was sent may still arrive when it answers again)"
        )

    def _reply(self, token: str, deadline: float) -> list[str]:
        """The lines tmux printed, up to ``token``'s."""
        lines: list[str] = []
        inside = False
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if not _ready(self._out, select.POLLIN, deadline):
                    raise self._late()
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
    """

    def __init__(self, session: Session, pane_id: str) -> None:
        self._session = session
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
        return self._control


class Guard:
    """``Guard(argv, env)``: a process that runs ``argv`` when this process
    ends, however it ends (SIGKILL included), unless :meth:`close` is
    called first: it waits for the end of a pipe only this process (and
    its forks) holds open."""

    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        self._owner = os.getpid()
        waiting = ["/bin/sh", "-c", 'read _ ; exec "$@" >/dev/null 2>&1', "sh", *argv]
        self._in, _, pid = _start(waiting, env, reply=False)
        self.pid: int | None = pid

    def close(self, *, run: bool = False) -> None:
        """End the guard without running ``argv``; with ``run``, let it run
        it now, and outlive this process if it must wait for it (tmux does
        not answer: the session is ended once it does)."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        if os.getpid() == self._owner and not run:
            os.kill(pid, 9)  # before the pipe closes: a closed pipe is its signal
            _end(pid, 1.0)
        os.close(self._in)


def _ready(fd: int, event: int, deadline: float) -> bool:
    """Whether ``fd`` is ready (or closed at the other end) before the
    deadline: poll, not select, which refuses descriptors from 1024 on."""
    left = deadline - time.monotonic()
    if left <= 0:
        return False
    poller = select.poll()
    poller.register(fd, event)
    return bool(poller.poll(left * 1000))


def _start(argv: Sequence[str], env: dict[str, str], *, reply: bool) -> tuple[int, int, int]:
    """Start ``argv`` with a pipe from us on stdin and, with ``reply``, one
    to us on stdout (else /dev/null), stderr /dev/null, in a process group
    of its own (a Ctrl-C at the terminal is not for it): (stdin's writing
    end, stdout's reading end or -1, pid)."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe() if reply else (-1, os.open(os.devnull, os.O_WRONLY))
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            pid = os.posix_spawnp(
                argv[0], list(argv), env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, in_r, 0),
                    (os.POSIX_SPAWN_DUP2, out_w, 1),
                    (os.POSIX_SPAWN_DUP2, null, 2),
                ],
                setpgroup=0,
            )  # fmt: skip
        finally:
            os.close(null)
    except BaseException:
        os.close(in_w)
        if out_r >= 0:
            os.close(out_r)
        raise
    finally:
        os.close(in_r)
        os.close(out_w)
    return in_w, out_r, pid


def _end(pid: int, grace: float) -> None:
    """Reap child ``pid``: SIGKILL if it has not ended within ``grace`` seconds."""
    deadline = time.monotonic() + grace
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
