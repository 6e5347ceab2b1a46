"""The host's side of a remote channel: a small long-lived process that runs
tmuxagent's verbs where tmux runs.

``python3 -m tmuxagent._serve SOCKET CODE_ID`` listens on a Unix socket in
the user's private directory (the local ssh forwards a socket of its own to
it over its master connection: no remote shell, no Python start per call).
Each connection is one verb: a fork of this warm process runs the CLI's own
``main`` with the connection's frames as its standard streams, so a remote
verb prints, waits and exits exactly as a local one. It exits after
``IDLE`` seconds without a connection, or when another one takes its socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import signal
import socket
import sys
import threading
import time

from ._wire import (
    API,
    EXIT,
    HELLO,
    REQUEST,
    SIGNAL,
    STDERR,
    STDIN,
    STDIN_END,
    STDOUT,
    ProtocolError,
    Wire,
    split_words,
)

#: Seconds without a connection after which the server exits.
IDLE = 600.0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        sys.stderr.write("usage: python3 -m tmuxagent._serve SOCKET CODE_ID\n")
        return 2
    serve(args[0], args[1])
    return 0


def warm() -> None:
    """Import what verbs use, once, before forking for each of them."""
    import importlib

    from . import cli

    for verb in cli.VERBS.values():
        func = getattr(verb, "func", None)
        if isinstance(func, str) and ":" in func:
            importlib.import_module("." + func.split(":", 1)[0], __package__)
    for module in ("_states", "_events", "_waits", "_read", "_input", "_screen", "_record",
                   "_tty", "_output", "_search", "_wake", "_api_host", "_codec", "shlex",
                   "tomllib", "datetime", "termios", "bisect", "contextvars"):  # fmt: skip
        importlib.import_module("." + module if module.startswith("_") else module, __package__)
    from ._profiles import warm as warm_profiles

    with contextlib.suppress(Exception):  # a broken profile is reported by the verbs
        warm_profiles()


def serve(path: str, code: str, idle: float = IDLE) -> None:
    import gc

    # This is the host: a TMUXAGENT_HOST of its own (shared dotfiles) would
    # send every call on to somewhere else.
    os.environ.pop("TMUXAGENT_HOST", None)

    warm()
    gc.freeze()  # the forks' collections leave these objects (and their pages) alone
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # the caller found nobody answering on it
    old = os.umask(0o077)
    try:
        listener.bind(path)
    finally:
        os.umask(old)
    listener.listen(16)
    inode = os.stat(path).st_ino
    # A fork waits in accept() before the call comes (a fork costs ~3 ms):
    # it says on this pipe when it took one, and another is made to wait.
    took_r, took_w = os.pipe()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # and the spare goes too
    spare = 0
    busy: set[int] = set()
    last = time.monotonic()
    try:
        while True:
            if not spare:
                spare = os.fork()
                if spare == 0:
                    os.close(took_r)
                    _wait_for_call(listener, took_w, code)  # never returns
            ready, _, _ = select.select([took_r], [], [], 1.0)
            if ready:
                os.read(took_r, 1)
                busy.add(spare)
                spare = 0
                last = time.monotonic()
            for pid in list(busy) + [spare] * bool(spare):
                try:
                    done = os.waitpid(pid, os.WNOHANG)[0] != 0
                except ChildProcessError:
                    done = True
                if done:
                    busy.discard(pid)
                    spare = 0 if pid == spare else spare
            if busy:
                last = time.monotonic()
            elif time.monotonic() - last > idle or _taken(path, inode):
                return
    finally:
        if spare:
            with contextlib.suppress(OSError):
                os.kill(spare, signal.SIGKILL)
                os.waitpid(spare, 0)
        listener.close()
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == inode:
                os.unlink(path)


def _taken(path: str, inode: int) -> bool:
    """Whether another server took the socket (or it was removed)."""
    try:
        return os.stat(path).st_ino != inode
    except FileNotFoundError:
        return True


def _wait_for_call(listener: socket.socket, took: int, code: str) -> None:
    """In a fork: take the next call, say so, run it, exit (or exit when the
    server is gone: then nobody would make the next one wait)."""
    parent = os.getppid()
    try:
        while not select.select([listener], [], [], 2.0)[0]:
            if os.getppid() != parent:
                os._exit(0)
        conn, _ = listener.accept()
        os.write(took, b"x")
    except BaseException:  # killed while waiting (the server exits)
        os._exit(0)
    listener.close()
    os.close(took)
    _serve_one(conn, code)


def _serve_one(conn: socket.socket, code: str) -> None:
    """In a fork: run one verb for the connection, then exit."""
    status = 1
    try:
        # Ctrl-C is held until the verb runs, where it is the verb's to take.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.default_int_handler)
        status = _run_verb(Wire(conn), code)
    except BaseException:  # nothing may escape a fork
        status = 1
    finally:
        os._exit(status)


def _run_verb(wire: Wire, code: str) -> int:
    wire.send(HELLO, code.encode())
    first = wire.read()
    if first is not None and first[0] == API:
        asked, options = split_words(first[1])
        if asked != code:
            wire.send(EXIT)
            return 0
        from ._api_host import serve_api

        serve_api(wire, json.loads(options))
        return 0
    if first is None or first[0] != REQUEST:
        return 1
    asked, label, via, *argv = split_words(first[1])
    if asked != code:  # another version of tmuxagent: it starts its own server
        wire.send(EXIT)
        return 0
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    os.dup2(in_r, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    relay = _Relay(wire, in_w, out_r, err_r)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    from . import cli

    cli.HOST_LABEL = label
    cli.ATTACH_VIA = shlex.split(via)
    status = 1
    try:
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            status = cli.main(argv)
        finally:  # a Ctrl-C from now on would cut the answer short: the verb is over
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        with contextlib.suppress(OSError):
            sys.stderr.flush()
    except KeyboardInterrupt:
        status = 130
    relay.finish()
    thread.join(5)
    if not relay.gone:
        wire.send(EXIT, str(status).encode())
    return 0


class _Relay:
    """Carries the verb's output to the client and the client's input and
    Ctrl-C to the verb, until the verb is over."""

    def __init__(self, wire: Wire, stdin: int, stdout: int, stderr: int) -> None:
        self.wire = wire
        self.stdin: int | None = stdin
        self.outputs = {stdout: STDOUT, stderr: STDERR}
        self.pending = bytearray()  # input not taken by the verb yet
        self.given = 0  # how much of it was
        self.gone = False  # the client went away
        self.ended = False  # the client's input is all here
        self._done_r, self._done_w = os.pipe()
        os.set_blocking(stdin, False)

    def finish(self) -> None:
        os.write(self._done_w, b"x")

    def run(self) -> None:
        sock = self.wire.sock.fileno()
        while True:
            while self.wire.buffered() and not self.gone:  # sent with the request
                self._take_input()
            poller = select.poll()
            for fd in self.outputs:
                poller.register(fd, select.POLLIN)
            poller.register(self._done_r, select.POLLIN)
            if not self.gone:
                poller.register(sock, select.POLLIN)
            if self.stdin is not None and self.given < len(self.pending):
                poller.register(self.stdin, select.POLLOUT)
            events = dict(poller.poll())
            for fd, kind in self.outputs.items():
                if fd in events:
                    self._carry(fd, kind)
            if sock in events and not self.gone:
                self._take_input()
            if self.stdin is not None and self.stdin in events:
                self._give_input()
            if self._done_r in events:
                for fd, kind in self.outputs.items():  # what is left, without waiting
                    os.set_blocking(fd, False)
                    while self._carry(fd, kind):
                        pass
                return

    def _carry(self, fd: int, kind: bytes) -> bool:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if data and not self.gone:
            try:
                self.wire.send(kind, data)
            except OSError:
                self._lost()
        return bool(data)

    def _take_input(self) -> None:
        try:
            frame = self.wire.read()
        except (OSError, ProtocolError):
            frame = None
        if frame is None:
            self._lost()
            return
        kind, data = frame
        if kind == STDIN and self.stdin is not None:
            self.pending += data
            self._give_input()
        elif kind == STDIN_END:
            self.ended = True
            self._give_input()
        elif kind == SIGNAL:
            os.kill(os.getpid(), signal.SIGINT)

    def _give_input(self) -> None:
        if self.stdin is None:
            return
        try:
            while self.given < len(self.pending):
                chunk = self.pending[self.given : self.given + (1 << 16)]  # a copy: no view held
                self.given += os.write(self.stdin, chunk)
        except BlockingIOError:
            if self.given > len(self.pending) // 2:  # drop what was given, now and then
                del self.pending[: self.given]
                self.given = 0
            return
        except OSError:  # the verb closed its input
            pass
        self.pending.clear()
        self.given = 0
        if self.ended:
            os.close(self.stdin)
            self.stdin = None

    def _lost(self) -> None:
        """The client is gone (killed, or its connection lost): stop the verb
        as Ctrl-C would, and drop its output."""
        if not self.gone:
            self.gone = True
            os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
