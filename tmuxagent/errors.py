"""Exceptions raised by tmuxagent.

Every exception carries the CLI exit code that stands for it, so the command
line maps errors to exit codes in one place::

    TmuxAgentError
    ├── WaitTimeout        (1) a wait or run did not see its condition in time
    ├── UsageError         (2) bad input: name, key, regex, size, option
    ├── SessionError       (3)
    │   ├── NoSuchSession       no session of that name (or no server at all)
    │   ├── SessionExists       the name is taken
    │   ├── ProgramExited       the program ended, and a live one is needed
    │   ├── CannotRun           the program could not be started (nothing was left running)
    │   └── SessionBusy         the shell is still running the previous command
    └── TmuxError          (4) tmux is missing, timed out or failed
        ├── TmuxNotFound
        ├── ServerNotRunning    nothing answers on the socket (or it stopped mid-call)
        ├── ForeignServer       the socket is another user's: refused
        └── CommandFailed       tmux ran a command and refused it

Messages are one line that says what to do next. The data behind a message is
kept in attributes (``name``, ``exit_status``, ``screen``...).
"""

from __future__ import annotations


class TmuxAgentError(Exception):
    """Base class of every tmuxagent error."""

    exit_code = 1


def shell_quote(word: str) -> str:
    """``word`` as it must be typed in a shell (for commands shown in messages)."""
    import shlex  # only on the error path: it is slow to import

    return shlex.quote(word)


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut short when long (a 5000-digit number
    stays one readable line)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    length = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[: limit - 3]}...{text[-1]}{length}"


class WaitTimeout(TmuxAgentError, TimeoutError):
    """A wait (or ``run``) did not see its condition before the deadline.

    ``condition`` describes what was awaited; ``screen`` holds the last lines
    of the screen at the time, to show what the program was doing instead.
    """

    exit_code = 1

    def __init__(self, condition: str, timeout: float, screen: str = "") -> None:
        self.condition = condition
        self.timeout = timeout
        self.screen = screen
        super().__init__(f"timed out after {timeout:g}s waiting for {condition}")


class UsageError(TmuxAgentError, ValueError):
    """Bad input: an invalid name, key, regex, size or option."""

    exit_code = 2


class SessionError(TmuxAgentError):
    """Something is wrong with the session asked for."""

    exit_code = 3


class NoSuchSession(SessionError, LookupError):
    def __init__(self, name: str, server_running: bool = True) -> None:
        self.name = name
        hint = "" if server_running else " (the tmuxagent server is not running)"
        super().__init__(
            f"no session named {name!r}{hint}; see 'tmuxagent list', "
            f"or start one with 'tmuxagent start {shell_quote(name)}'"
        )


class SessionExists(SessionError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"a session named {name!r} already exists; pick another name, "
            f"or 'tmuxagent kill {shell_quote(name)}' first"
        )


class ProgramExited(SessionError):
    """The session's program has ended (its last screen is still readable).

    ``exit_status`` is its exit status, or ``signal`` the number of the
    signal that killed it (as in :class:`~tmuxagent.SessionInfo`).
    """

    def __init__(self, name: str, exit_status: int | None, signal: int | None = None) -> None:
        self.name = name
        self.exit_status = exit_status
        self.signal = signal
        how = _describe_exit(exit_status, signal)
        super().__init__(
            f"the program in session {name!r} has exited ({how}); "
            f"'tmuxagent capture {shell_quote(name)}' shows its last screen, "
            f"'tmuxagent kill {shell_quote(name)}' removes it"
        )


class CannotRun(SessionError):
    """The program could not be started (``start`` removed its session again).

    The message says why, from the system's own error: not executable, a
    directory, an interpreter on its ``#!`` line that does not exist, a
    binary for another machine... ``program`` is the command's first word.
    """

    def __init__(self, message: str, program: str = "") -> None:
        self.program = program
        super().__init__(message)


class SessionBusy(SessionError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"the shell in session {name!r} is still running the previous command; "
            f"wait for it ('tmuxagent wait {shell_quote(name)} --prompt'), or interrupt it "
            f"('tmuxagent keys {shell_quote(name)} C-c')"
        )


class TmuxError(TmuxAgentError):
    """tmux failed, timed out, or the server is unusable."""

    exit_code = 4


class HostError(TmuxError):
    """A remote host cannot be reached or used (exit 4): unreachable, refused
    the key, lost the connection, or lacks tmux or a recent Python."""


class TmuxNotFound(TmuxError):
    def __init__(self, binary: str = "tmux") -> None:
        super().__init__(
            f"{binary!r} was not found on PATH; install tmux 3.2 or newer "
            "(Debian/Ubuntu: apt-get install tmux; macOS: brew install tmux)"
        )


class ServerNotRunning(TmuxError):
    """No tmux server answers on the socket (never started, or killed)."""


class ForeignServer(TmuxError):
    """The socket is not the caller's own (another user's server, or a link):
    tmuxagent refuses to talk to it, or to touch it."""


class CommandFailed(TmuxError):
    """tmux ran and refused a command (``stderr`` holds its words).

    ``stdout`` is what the commands before the failing one printed.
    """

    def __init__(self, args: list[str], stderr: str, stdout: str = "") -> None:
        self.command = args
        self.stderr = stderr
        self.stdout = stdout
        first = stderr.strip().splitlines()[0] if stderr.strip() else "unknown error"
        super().__init__(f"tmux {args[0] if args else ''} failed: {first}")


def signal_name(number: int | None) -> str | None:
    """``9`` to ``'SIGKILL'`` (None for no signal)."""
    if not number:
        return None
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _describe_exit(exit_status: int | None, signal: int | None) -> str:
    if signal:
        return f"killed by signal {signal_name(signal)}"
    if exit_status is None:
        return "exit status unknown"
    return f"exit status {exit_status}"


__all__ = [
    "CannotRun",
    "CommandFailed",
    "ForeignServer",
    "NoSuchSession",
    "ProgramExited",
    "ServerNotRunning",
    "SessionBusy",
    "SessionError",
    "SessionExists",
    "TmuxAgentError",
    "TmuxError",
    "TmuxNotFound",
    "UsageError",
    "WaitTimeout",
]
