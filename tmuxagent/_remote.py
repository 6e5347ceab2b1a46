"""Verbs on a remote host: ``tmuxagent -H HOST VERB ...``.

The verb runs in tmuxagent's server on the host (``_serve``), where tmux
runs, and its output, errors and exit code come back as they are: only the
request and the results cross the wire. Paths in a verb's arguments are on
the host, but for the files a user hands over or takes home: ``paste``'s
FILE is read here and ``record --cast FILE`` is written here. ``attach``
runs (or prints) an ssh command that attaches; ``skill`` is about this
machine's agent and runs here.
"""

from __future__ import annotations

import os
import signal
import sys

from ._poll import TMUX_TIMEOUT
from ._ssh import HostSpec, Link, parse_host
from ._wire import (
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
    words,
)
from .errors import HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._cli_io import Args


def cmd_remote(host: str, args: Args) -> int:
    """Run the parsed verb ``args`` on ``host`` ([user@]host[:port]); its exit code."""
    spec = parse_host(host)
    argv = list(args.verb_argv)
    stdin: bytes | None = None
    output: int | None = None
    if args.verb == "attach":
        return _attach(spec, args)
    if args.verb == "paste":
        from ._cli_io import read_input

        stdin = read_input(args.file or "-").encode("utf-8", "surrogateescape")
        if args.file is not None:  # the host reads it from its stdin instead
            last = len(argv) - 1 - argv[::-1].index(args.file)
            argv[last] = "-"
    if args.verb == "record" and args.cast not in (None, "-"):
        output = _create_private(args.cast)
        argv = _replace_option(argv, "--cast", "-")
    prefix = []
    if args.socket is not None:
        prefix += ["--socket", args.socket]
    if args.tmux_timeout != TMUX_TIMEOUT:
        prefix += ["--tmux-timeout", repr(args.tmux_timeout)]
    try:
        return run_verb(spec, prefix + argv, stdin=stdin, stdout=1 if output is None else output)
    finally:
        if output is not None:
            os.close(output)


def _replace_option(argv: list[str], name: str, value: str) -> list[str]:
    out, skip = [], False
    for word in argv:
        if skip:
            out.append(value)
            skip = False
        elif word == name:
            out.append(word)
            skip = True
        elif word.startswith(name + "="):
            out.append(f"{name}={value}")
        else:
            out.append(word)
    return out


def _create_private(path: str) -> int:
    from .errors import UsageError, shown

    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise UsageError(f"cannot write {shown(path)}: {exc.strerror}") from None


def _attach(spec: HostSpec, args: Args) -> int:
    """Attach through ssh with a terminal (or print the command that does)."""
    import shlex
    import sys

    argv = ["attach", args.name, "--print"] + (["--read-only"] if args.read_only else [])
    prefix = ["--socket", args.socket] if args.socket is not None else []
    buffer = bytearray()
    code = run_verb(spec, prefix + argv, stdout=buffer)
    if code != 0:
        return code
    remote = bytes(buffer).decode("utf-8", "surrogateescape").strip()
    command = Link(spec).argv("-t", command=remote, batch=False)  # it may ask for a password
    if args.print:
        sys.stdout.write(shlex.join(command) + "\n")
        return 0
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        from .errors import UsageError

        raise UsageError(f"attach needs a terminal; a human can run: {shlex.join(command)}")
    os.execvp(command[0], command)


def run_verb(spec: HostSpec, argv: list[str], *, stdin: bytes | None = None,
             stdout: int | bytearray = 1) -> int:  # fmt: skip
    """Run the CLI's ``argv`` on the host: its output to ``stdout`` (a
    descriptor, or a buffer to add to) and fd 2, ``stdin`` as its input;
    returns its exit code. HostError (exit 4) when
    the host cannot be reached, or the connection is lost on the way."""
    link = Link(spec)
    data = stdin or b""
    frames = [(REQUEST, words(link.code, spec.text, *argv))]
    frames += [(STDIN, data[i : i + (1 << 20)]) for i in range(0, len(data), 1 << 20)]
    frames.append((STDIN_END, b""))
    interrupts = 0
    wire: Wire | None = None  # None while the request is on its way

    def interrupt(signum: int, frame: object) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:  # a second Ctrl-C does not wait for the host
            raise KeyboardInterrupt
        if wire is not None:
            _tell(wire, SIGNAL)

    try:
        previous = signal.signal(signal.SIGINT, interrupt)
    except ValueError:  # not the main thread: Ctrl-C is not ours to take
        previous = None
    try:
        wire = _sent(link, frames)
        for note in link.notes:  # said once: the channel is set up once
            sys.stderr.write(f"tmuxagent: {note}\n")
        if interrupts:
            _tell(wire, SIGNAL)
        broken = False
        while True:
            try:
                frame = wire.read()
            except (OSError, ProtocolError):
                frame = None
            if frame is None:
                raise HostError(f"lost the connection to {spec}")
            kind, data = frame
            if kind == STDOUT and isinstance(stdout, bytearray):
                stdout += data
            elif kind == STDOUT and isinstance(stdout, int) and not broken:
                try:
                    _write_all(stdout, data)
                except BrokenPipeError:  # as a local verb: the reader is gone, the rest dropped
                    broken = True
            elif kind == STDERR:
                try:
                    _write_all(2, data)
                except BrokenPipeError:
                    pass
            elif kind == EXIT:
                if not data.isdigit():
                    raise HostError(f"{spec}: its tmuxagent server is another version")
                return 0 if broken else int(data)
    except OSError as exc:
        raise HostError(f"lost the connection to {spec}: {exc.strerror or exc}") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if wire is not None:
            wire.sock.close()


def _sent(link: Link, frames: list[tuple[bytes, bytes]]) -> Wire:
    """A connection that carried ``frames`` to the host's server, which
    greeted it. No greeting means that no server is behind the channel and
    the request was not run: the channel is opened again, once."""
    for attempt in range(2):
        wire = Wire(link.connect())
        try:
            for kind, data in frames:
                wire.send(kind, data)
            hello = wire.read()
        except (OSError, ProtocolError):
            hello = None
        if hello is not None and hello[0] == HELLO:
            return wire
        wire.sock.close()
        if attempt == 0:
            link.open(again=True)
    raise HostError(f"{link.spec}: its tmuxagent server does not answer")


def _tell(wire: Wire, kind: bytes) -> None:
    try:
        wire.send(kind)
    except OSError:  # the connection is gone: the read that follows says so
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
