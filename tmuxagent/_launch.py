"""Runs first in every new pane: starts the session's program, stays while it
runs, and ends as it ended once tmux has read everything it wrote.

tmux gives every pane the environment of the server, which was fixed when
the first session started. tmuxagent wants each program to run in the
environment, directory and argv of the ``start`` that asked for it, exactly,
with no shell in between: this script reads that from a file (which it
deletes) and runs it.

Why it stays: tmux closes a pane's terminal as soon as the pane's process has
ended and nothing is left to read, but the kernel passes a pty's output on
asynchronously, so the last bytes of a program that exits at once could still
be on their way, and be lost (from the screen and from the log). So the
launcher forks the program and remains the pane's process. Once the program
has ended, the launcher writes a sentinel to the terminal, an OSC sequence
with a random nonce (``ESC ] 6973 ; tmuxagent-end ; NONCE BEL``) that tmux,
terminals and tmuxagent's renderer ignore and that no prompt marker matches,
and waits (at most :data:`DRAIN_TIMEOUT`) until it is in the session's log:
tmux reads in order, so everything before it has been read, shown and logged.
Then it exits as the program did: the same exit code, or the same signal, so
tmux's ``pane_dead_status`` and ``pane_dead_signal`` are the program's.

The terminal stays the program's own: the launcher gives it up and the
program makes it the controlling terminal of a session of its own, as if tmux
had started it. Job control, Ctrl-C, Ctrl-Z and the SIGHUP when the pane goes
reach the program exactly as before, and never the launcher. Signals sent to
the launcher (the pane's pid) are passed on to the program; if the launcher is
killed outright, the kernel kills the program (``PR_SET_PDEATHSIG``). The
program's pid goes to ``program.pid`` beside the log: tmuxagent's "pid" means
the program.

Run with ``python -I -S`` (see :func:`command`): nothing but the stdlib. The process that stays
imports only builtin modules and ``fcntl``/``termios``; the program's side
imports the rest (``json``, ``os``) after the fork. If the program cannot be
started, the reason goes to the pane (its stderr) and to ``launch.error`` in
the session's directory, in words (a missing ``#!`` interpreter, a binary for
another machine...), before the exec pipe closes and the pid is noted: so
``start``, which waits for that note, finds it there, removes the session and
says why (exit 3). The status is 127.
"""

from __future__ import annotations

import posix
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Iterable
    from typing import NoReturn
else:  # builtin and loaded already; the signal module would import enum
    import _signal

#: Where the launcher notes the program's pid, in the session's directory.
PID_FILE = "program.pid"
#: The session's log (appended by tmux's pipe-pane), beside the spec file.
LOG_FILE = "output.log"
#: The most seconds to wait, once the program has ended, for tmux to read
#: what it wrote (normally a few milliseconds).
DRAIN_TIMEOUT = 2.0
#: What the sentinel starts with; a random nonce (:data:`_NONCE` hex digits)
#: and BEL follow.
SENTINEL = b"\x1b]6973;tmuxagent-end;"
_NONCE = 16
#: Signals that would be the launcher's own fault: never passed on.
_OWN = {
    _signal.SIGKILL, _signal.SIGSTOP, _signal.SIGSEGV, _signal.SIGBUS,
    _signal.SIGFPE, _signal.SIGILL, _signal.SIGTRAP, _signal.SIGSYS,
}  # fmt: skip
_NEW_FILE = posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC
_NONBLOCK = posix.O_NONBLOCK | posix.O_CLOEXEC
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


def command(python: str, spec: str) -> list[str]:
    """The pane's command that runs the launcher for ``spec`` with ``python``.

    The launcher is loaded as a module, from its cached bytecode: compiling
    this file, as running it as a script does, would leave almost 1 MB more
    in every launcher for as long as its program runs.
    """
    return [python, "-I", "-S", "-c", _BOOT, __file__, spec]


_BOOT = (
    "import sys; from importlib.machinery import SourceFileLoader; m = type(sys)('launch'); "
    "SourceFileLoader('launch', sys.argv[1]).exec_module(m); m.main(sys.argv[2])"
)


def main(spec: str) -> None:
    root = spec.rpartition("/")[0] or "."
    # Everything sent to the launcher waits for sigwaitinfo, to be passed on.
    signals = {int(sig) for sig in _signal.valid_signals()} - _OWN
    mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, signals)
    own_terminal = _give_up_terminal()
    try:  # a file description of its own, for a write that must not block
        tty = posix.open(posix.ttyname(1), posix.O_WRONLY | posix.O_NOCTTY | _NONBLOCK)
    except OSError:
        tty = -1  # not a terminal: nothing to wait for
    launcher = posix.getpid()
    try:
        started, starting = posix.pipe()  # close-on-exec: EOF once the program runs
        child = posix.fork()
    except OSError as exc:
        _cannot_start(spec, f"tmuxagent: cannot start a process: {exc.strerror}\n")
    if child == 0:
        try:
            posix.close(started)
            _run_program(spec, launcher, mask, own_terminal)
        except BaseException as exc:  # never return into the launcher's code
            _cannot_start(spec, f"tmuxagent: cannot run the program: {exc!r}\n")
        posix._exit(127)
    posix.close(starting)
    posix.read(started, 1)  # the program runs (or could not): its pid may be used
    posix.close(started)
    _note_pid(root, child)
    try:
        posix.chdir("/")  # hold no directory of the program's busy
    except OSError:
        pass
    status = _wait(child, signals)
    _forget_pid(root)
    if tty >= 0:
        _drain(root, tty, signals)
    _end_as(status)


def _give_up_terminal() -> bool:
    """Detach the launcher from its controlling terminal, so that the program
    can take it (True); False when the launcher does not own one."""
    if posix.getsid(0) != posix.getpid():
        return False
    import fcntl
    import termios

    try:
        fcntl.ioctl(0, termios.TIOCNOTTY)
    except OSError:
        return False
    finally:
        # Giving it up sent the launcher SIGHUP and SIGCONT (pending, as they
        # are blocked): ignoring a signal discards it, then back as it was.
        for sig in (_signal.SIGHUP, _signal.SIGCONT):
            _signal.signal(sig, _signal.signal(sig, _signal.SIG_IGN))
    return True


def _run_program(spec: str, launcher: int, mask: Iterable[int], own_terminal: bool) -> NoReturn:
    """In the child: take the terminal, read the spec, exec the program."""
    import json
    import os

    if own_terminal:  # a session of its own, with the pane's terminal
        import fcntl
        import termios

        try:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        except OSError:
            pass  # it runs all the same, without job control
    if _prctl(_PR_SET_PDEATHSIG, _signal.SIGKILL) and os.getppid() != launcher:
        os._exit(1)  # the launcher died before it could be told
    with open(spec, encoding="utf-8") as f:
        data = json.load(f)
    os.unlink(spec)  # it holds the environment: do not leave it lying around
    argv = data["argv"]
    env = data["env"]
    # The terminal is tmux's, whatever the caller's was; its size is the pane's.
    for name in ("TERM", "TMUX", "TMUX_PANE"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    # Python ignores these two; tmux gives its programs the default.
    for sig in (_signal.SIGPIPE, _signal.SIGXFSZ):
        _signal.signal(sig, _signal.SIG_DFL)
    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
    try:
        os.chdir(data["cwd"])
    except OSError as exc:
        _cannot_start(spec, f"tmuxagent: cannot enter {data['cwd']!r}: {exc.strerror}\n")
    _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        why = _exec_error(argv[0], env.get("PATH"), exc)
        _cannot_start(spec, f"tmuxagent: cannot run {argv[0]!r}: {why}\n")


def _exec_error(program: str, path: str | None, exc: OSError) -> str:
    """Why exec failed, in words (run in the child, after the failure)."""
    import errno
    import os
    import shutil

    reason = exc.strerror or str(exc)
    found = program if "/" in program else shutil.which(program, path=path)
    if found is None:
        return reason
    if exc.errno == errno.ENOENT:  # the file is there: the interpreter it names is not
        try:
            with open(found, "rb") as f:
                head = f.readline(256)
        except OSError:
            return reason
        if head.startswith(b"#!") and head.endswith(b"\r\n"):
            return "its #! line ends in a DOS line break (\\r): convert it with dos2unix"
        words = head[2:].split() if head.startswith(b"#!") else []
        if words:
            interpreter = words[0].decode("utf-8", "replace")
            return f"the interpreter on its #! line, {interpreter!r}, does not exist"
    if exc.errno == errno.ENOEXEC:
        return f"{reason}: not a program this machine can run (no #! line, or another CPU's)"
    if exc.errno == errno.EACCES:
        return "it is a directory" if os.path.isdir(found) else f"{reason} (is it executable?)"
    return reason


def _cannot_start(spec: str, message: str) -> NoReturn:
    """Say why on the pane and in ``launch.error``; exit 127."""
    sys.stderr.write(message)
    sys.stderr.flush()
    try:
        posix.unlink(spec)
    except OSError:
        pass
    error = (spec.rpartition("/")[0] or ".") + "/launch.error"
    try:
        fd = posix.open(error, _NEW_FILE, 0o600)
        posix.write(fd, message.encode("utf-8", "replace"))
        posix.close(fd)
    except OSError:
        pass  # the pane shows it anyway
    posix._exit(127)


def _prctl(option: int, value: int) -> bool:
    """Linux's prctl(2) without importing ctypes (7 ms, most of a MB)."""
    try:
        import _ctypes

        libc = _ctypes.dlopen(None)  # type: ignore[arg-type]
        done = _ctypes.call_function(_ctypes.dlsym(libc, "prctl"), (option, value, 0, 0, 0))
    except (ImportError, AttributeError, OSError):
        return False
    return bool(done == 0)


def _note_pid(root: str, pid: int) -> None:
    try:
        fd = posix.open(f"{root}/{PID_FILE}", _NEW_FILE, 0o600)
    except OSError:
        return  # the session's files are gone
    try:
        posix.write(fd, b"%d\n" % pid)
    finally:
        posix.close(fd)


def _wait(child: int, signals: set[int]) -> int:
    """Pass signals on to the program until it ends; its wait status."""
    while True:
        info = _signal.sigwaitinfo(signals)
        if info.si_signo == _signal.SIGCHLD:
            pid, status = posix.waitpid(child, posix.WNOHANG)
            if pid == child:
                return status
        elif info.si_pid != child:
            try:
                posix.kill(child, info.si_signo)
            except OSError:
                pass


def _drain(root: str, tty: int, signals: set[int]) -> None:
    """Write the sentinel and wait until it is in the log: then tmux has read
    all the program wrote. Gives up at the deadline, on a signal, or when
    the terminal is gone (the pane was killed)."""
    try:
        log = posix.open(f"{root}/{LOG_FILE}", posix.O_RDONLY | posix.O_NOFOLLOW | _NONBLOCK)
    except OSError:
        return  # no log (its files are gone): nothing to wait for
    try:
        sentinel = SENTINEL + posix.urandom(_NONCE // 2).hex().encode() + b"\x07"
        pos = posix.fstat(log).st_size  # the sentinel lands after this
        deadline = time.monotonic() + DRAIN_TIMEOUT
        left = sentinel
        while left:
            try:
                left = left[posix.write(tty, left) :]
            except BlockingIOError:  # output stopped (Ctrl-S), or tmux is behind
                if not _pause(signals, deadline, 0.005):
                    return
            except OSError:
                return  # hung up: the pane is gone
        keep = b""
        delay = 0.0005
        while True:
            size = posix.fstat(log).st_size
            if size < pos:  # cut short: look again from the start
                pos, keep = 0, b""
            chunk = posix.pread(log, min(size - pos, 1 << 20), pos) if size > pos else b""
            if chunk:
                pos += len(chunk)
                seen = keep + chunk
                if sentinel in seen:
                    return
                keep = seen[1 - len(sentinel) :]
                continue
            if not _pause(signals, deadline, delay):
                _note_if_unlogged(root)
                return
            delay = min(delay * 2, 0.02)
    finally:
        posix.close(log)


def _note_if_unlogged(root: str) -> None:
    """The sentinel never reached the log: if no writer holds the log (its
    lock on ``log.state``, see ``_logwriter.py``), say in the log that the
    program's last output may be missing."""
    import fcntl

    try:
        state = posix.open(f"{root}/log.state", posix.O_RDONLY | posix.O_NOFOLLOW)
    except OSError:
        return
    try:
        fcntl.flock(state, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return  # a writer is there, only slow
    finally:
        posix.close(state)
    note = b"\x18\r\n[tmuxagent: output may be missing here: the log's writer had stopped]\r\n"
    try:
        log = posix.open(f"{root}/{LOG_FILE}", posix.O_WRONLY | posix.O_APPEND | posix.O_NOFOLLOW)
    except OSError:
        return
    try:
        posix.write(log, note)
    finally:
        posix.close(log)


def _forget_pid(root: str) -> None:
    """The program is reaped: its pid may go to another process now."""
    try:
        fd = posix.open(f"{root}/{PID_FILE}", posix.O_WRONLY | posix.O_TRUNC | posix.O_NOFOLLOW)
    except OSError:
        return
    try:
        posix.write(fd, b"0\n")
    finally:
        posix.close(fd)


def strip_sentinels(data: bytes) -> tuple[bytes, bytes]:
    """Raw output without the launcher's sentinels, for readers of raw bytes
    (``spawn``); and its end when that may be the start of one (read it again
    before what comes next)."""
    kept = []
    pos = 0
    while (at := data.find(b"\x1b", pos)) >= 0:
        kept.append(data[pos:at])
        end = _sentinel_end(data, at)
        if end is None:
            return b"".join(kept), data[at:]
        if end == at:  # another escape sequence: the program's
            kept.append(b"\x1b")
            end += 1
        pos = end
    kept.append(data[pos:])
    return b"".join(kept), b""


def _sentinel_end(data: bytes, at: int) -> int | None:
    """Where a sentinel that starts at ``at`` ends; ``at`` if there is none
    there, None if ``data`` ends before that can be told."""
    head = data[at : at + len(SENTINEL)]
    if head != SENTINEL:
        return None if at + len(head) == len(data) and SENTINEL.startswith(head) else at
    start = end = at + len(SENTINEL)
    while end < len(data) and end - start < _NONCE and data[end] in b"0123456789abcdef":
        end += 1
    if end == len(data):
        return None
    return end + 1 if end - start == _NONCE and data[end] == 7 else at


def _pause(signals: set[int], deadline: float, delay: float) -> bool:
    """Sleep ``delay`` (up to the deadline); False if the deadline passed or a
    signal came (whoever sent it wants the launcher to be done)."""
    left = deadline - time.monotonic()
    return left > 0 and _signal.sigtimedwait(signals, min(delay, left)) is None


def _end_as(status: int) -> NoReturn:
    """Exit as the program did."""
    if posix.WIFSIGNALED(status):
        sig = posix.WTERMSIG(status)
        _prctl(_PR_SET_DUMPABLE, 0)  # the program dumped its own core, if any
        if sig not in (_signal.SIGKILL, _signal.SIGSTOP):  # those cannot be caught
            _signal.signal(sig, _signal.SIG_DFL)
            _signal.pthread_sigmask(_signal.SIG_UNBLOCK, [sig])
        posix.kill(posix.getpid(), sig)
        posix._exit(128 + sig)  # a signal that does not end a process
    posix._exit(posix.WEXITSTATUS(status) if posix.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main(sys.argv[1])
