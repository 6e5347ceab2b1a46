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
    if args.verb == "attach":
        return _attach(spec, args)
    if args.verb == "paste":
        from ._cli_io import read_input

        stdin = read_input(args.file or "-").encode("utf-8", "surrogateescape")
        if args.file is not None:  # the host reads it from its stdin instead
            argv[_second_word(argv)] = "-"
    prefix = []
    if args.socket is not None:
        prefix += ["--socket", args.socket]
    if args.tmux_timeout != TMUX_TIMEOUT:
        prefix += ["--tmux-timeout", repr(args.tmux_timeout)]
    if args.verb == "record" and args.cast not in (None, "-"):
        return _record_here(spec, prefix + _replace_option(argv, "--cast", "-"), args.cast)
    return run_verb(spec, prefix + argv, stdin=stdin, attach=args.verb in ("start", "status"))


def _second_word(argv: list[str]) -> int:
    """Where a verb's second positional word is in ``argv`` (VERB first),
    read as the parser reads it (an option's value is not a word)."""
    from .cli import VERBS

    verb = VERBS[argv[0]]
    words, i, rest = 0, 1, False
    while i < len(argv):
        token = argv[i]
        if rest or not token.startswith("-") or token == "-":
            words += 1
            if words == 2:
                return i
        elif token == "--":
            rest = True
        elif "=" not in token:
            found = verb.options.get(token)
            if found is not None and found.kind != "flag":
                i += 1  # its value
        i += 1
    raise ValueError("no second word")  # the parser found one


def _record_here(spec: HostSpec, argv: list[str], path: str) -> int:
    """``record --cast FILE``: the cast comes over as the verb's output into a
    file here, made as a local one is (0600, renamed into place once whole)."""
    from ._files import PrivateOutput
    from .errors import UsageError, shown

    class Failed(Exception):
        pass

    try:
        with PrivateOutput(path) as out:
            code = run_verb(spec, argv, stdout=out.fileno())
            if code != 0:
                raise Failed  # no file, as when the verb fails here
    except Failed:
        return code
    except OSError as exc:
        raise UsageError(f"cannot write {shown(path)}: {exc.strerror}") from None
    return 0


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


def _attach(spec: HostSpec, args: Args) -> int:
    """Attach through ssh with a terminal (or print the command that does)."""
    import sys

    argv = ["attach", args.name, "--print"] + (["--read-only"] if args.read_only else [])
    prefix = ["--socket", args.socket] if args.socket is not None else []
    buffer = bytearray()
    code = run_verb(spec, prefix + argv, stdout=buffer, attach=True)
    if code != 0:
        return code
    command = attach_command(Link(spec), bytes(buffer).decode("utf-8", "surrogateescape"))
    if args.print:
        sys.stdout.write(_join(command) + "\n")
        return 0
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        from .errors import UsageError

        raise UsageError(f"attach needs a terminal; a human can run: {_join(command)}")
    os.execvp(command[0], command)


def _join(words: list[str]) -> str:
    import shlex  # (not on every call's way: 0.6 ms)

    return shlex.join(words)


def attach_via(link: Link) -> list[str]:
    """The ssh command that attaches, but for its remote command (the
    host's attach commands go through it)."""
    return link.argv("-t", command="", batch=False)[:-1]


def attach_command(link: Link, printed: str) -> list[str]:
    """The ssh command a host printed for attach (see run_verb): only the
    remote command it ends with is the host's (run there); the rest must be
    ours, else HostError. It may ask for a password."""
    import shlex

    via = attach_via(link)
    try:
        said = shlex.split(printed)
    except ValueError:
        said = []
    if len(said) != len(via) + 1 or said[:-1] != via:
        raise HostError(f"{link.spec}: a bad answer to attach")
    return [*via, said[-1]]


def run_verb(spec: HostSpec, argv: list[str], *, stdin: bytes | None = None,
             stdout: int | bytearray = 1, attach: bool = False) -> int:  # fmt: skip
    """Run the CLI's ``argv`` on the host: its output to ``stdout`` (a
    descriptor, or a buffer to add to) and fd 2, ``stdin`` as its input;
    returns its exit code. ``attach``: the verb prints attach commands (the
    host makes them ssh commands from here). HostError (exit 4) when
    the host cannot be reached, or the connection is lost on the way."""
    link = Link(spec)
    data = stdin or b""
    via = _join(attach_via(link)) if attach else ""
    frames = [(REQUEST, words(link.code, spec.text, via, *argv))]
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
        wire = sent(link, frames)
        for note in link.notes:  # said once: the channel is set up once
            sys.stderr.write(f"tmuxagent: {note}\n")
        if interrupts:
            _tell(wire, SIGNAL)
        watch = None
        if isinstance(stdout, int):  # a reader that goes away (| head -1) ends the call
            import select

            watch = select.poll()
            watch.register(wire.sock.fileno(), select.POLLIN)
            watch.register(stdout, 0)  # errors only: POLLERR once no one reads the pipe
        while True:
            ready = watch.poll() if watch is not None and not wire.buffered() else []
            if any(fd == stdout for fd, _ in ready):
                return 0  # as a local verb whose reader left; closing stops the host's
            try:
                frame = wire.read()
            except (OSError, ProtocolError):
                frame = None
            if frame is None:
                raise HostError(f"lost the connection to {spec}")
            kind, data = frame
            if kind == STDOUT and isinstance(stdout, bytearray):
                stdout += data
            elif kind == STDOUT and isinstance(stdout, int):
                try:
                    _write_all(stdout, data)
                except BrokenPipeError:  # as a local verb: the reader is gone, the rest
                    return 0  # dropped; closing stops the verb on the host
            elif kind == STDERR:
                try:
                    _write_all(2, data)
                except BrokenPipeError:
                    pass
            elif kind == EXIT:
                if not data.isdigit():
                    raise HostError(f"{spec}: its tmuxagent server is another version")
                return int(data)
    except OSError as exc:
        raise HostError(f"lost the connection to {spec}: {exc.strerror or exc}") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if wire is not None:
            wire.sock.close()


#: Seconds the host's server may take to greet a connection.
GREETING_TIMEOUT = 30.0


def sent(link: Link, frames: list[tuple[bytes, bytes]]) -> Wire:
    """A connection that carried ``frames`` to the host's server, which
    greeted it. No greeting means that no server is behind the channel and
    the request was not run: the channel is opened again, once."""
    for attempt in range(2):
        wire = Wire(link.connect())
        wire.sock.settimeout(GREETING_TIMEOUT)  # a server there greets at once
        try:
            for kind, data in frames:
                wire.send(kind, data)
            hello = wire.read()
        except TimeoutError:
            wire.sock.close()
            raise HostError(f"{link.spec}: its tmuxagent server did not answer in "
                            f"{GREETING_TIMEOUT:g} s; is the host stalled?") from None  # fmt: skip
        except (OSError, ProtocolError):
            hello = None
        if hello is not None and hello[0] == HELLO:
            wire.sock.settimeout(None)
            return wire
        wire.sock.close()
        if attempt == 0:
            link.open(again=True)
    raise HostError(
        f"{link.spec}: its tmuxagent server does not answer (does its sshd forward Unix "
        "sockets? AllowStreamLocalForwarding)"
    )


def _tell(wire: Wire, kind: bytes) -> None:
    try:
        wire.send(kind)
    except OSError:  # the connection is gone: the read that follows says so
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
