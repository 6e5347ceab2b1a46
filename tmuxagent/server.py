"""tmuxagent's private tmux server: where it is, how sessions start, listing."""

from __future__ import annotations

import os
import sys
import time

from ._files import Mark, SessionFiles
from ._host import absolute, default_socket, session_environment
from ._local import LocalHost
from ._names import encode_name, session_target, validate_name
from ._pane import Pane, list_panes, settle_status
from ._poll import (
    DEFAULT_TIMEOUT,
    PROCESS_INTERVAL,
    READY_TIMEOUT,
    TMUX_TIMEOUT,
    Deadline,
    calls_within,
    check_timeout,
)
from ._records import session_info
from ._screen import DEFAULT_SIZE, HISTORY_LINES, parse_size, screens
from ._tmux import format_escape
from .errors import (
    CannotRun,
    CommandFailed,
    ForeignServer,
    ProgramExited,
    ServerNotRunning,
    SessionExists,
    TmuxError,
    TmuxNotFound,
    UsageError,
    WaitTimeout,
    shown,
)
from .session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    import libtmux

    from ._host import Host
    from ._records import Capture, SessionInfo
    from ._states import State

#: Server options, set before every new session (so they hold even on a server
#: that tmuxagent did not start, and apply to the session's first pane).
_SERVER_OPTIONS = (
    ("-g", "history-limit", str(HISTORY_LINES)),
    ("-g", "remain-on-exit", "on"),
    ("-g", "default-terminal", "tmux-256color"),
    ("-s", "escape-time", "10"),
    ("-g", "status-left", "[#{@tmuxagent_name}] "),
    ("-g", "status-left-length", "40"),
    ("-g", "status-right", "tmuxagent | detach: C-b d "),
)


#: Seconds a start that failed gives tmux to end the session it made.
UNDO_TIMEOUT = 1.0
#: Seconds a session that a failed start left behind may take to end.
LEFTOVER_WAIT = 5.0


class _Made:
    """What a start made in tmux: whether new-session may have reached it
    (``sent``), the session's id and launcher's pid; ``keep`` the session."""

    __slots__ = ("sent", "id", "launcher", "keep")

    def __init__(self) -> None:
        self.sent, self.id, self.launcher, self.keep = False, "", 0, False


#: The size of a socket address's path (with its NUL): longer paths cannot be used.
_SUN_PATH = 104 if sys.platform == "darwin" else 108


def check_tmux_timeout(timeout: float) -> None:
    if not 0 < timeout < 1e9:  # also refuses nan and inf
        raise UsageError(f"the tmux timeout must be a positive number of seconds, not {timeout}")


class Server:
    """A private tmux server for agent sessions.

    ``socket`` defaults to :func:`default_socket` (an empty
    ``$TMUXAGENT_SOCKET`` counts as unset; an empty ``socket`` is refused).
    ``host`` (``[user@]host[:port]``): the server on that host, over ssh
    (``socket`` is then a path there).
    Nothing runs until the first :meth:`start`; the server exits when its
    last session is killed.
    """

    def __new__(cls, *args: Any, host: str | None = None, **options: Any) -> Server:
        if host is not None and cls is Server:  # the same API, on that host over ssh
            from ._remote_api import RemoteServer

            return super().__new__(RemoteServer)
        return super().__new__(cls)

    def __init__(
        self,
        socket: str | os.PathLike[str] | None = None,
        *,
        host: str | None = None,
        timeout: float = TMUX_TIMEOUT,
        log_limit: int | str | None = None,
    ) -> None:
        check_tmux_timeout(timeout)
        self._log_limit: int | None = None
        if log_limit is not None:
            self.log_limit = log_limit
        if socket is not None and not os.fspath(socket):
            raise UsageError("the socket path is empty; give a path, or none for the default")
        path = default_socket() if socket is None else absolute(socket)
        if len(os.fsencode(path)) >= _SUN_PATH:  # tmux could not use it
            raise UsageError(
                f"the socket path {shown(path)} is too long ({len(os.fsencode(path))} bytes; "
                f"a socket's path holds at most {_SUN_PATH - 1})"
            )
        #: Where tmux runs: every tmux call, file and process goes through it.
        self.host: Host = LocalHost(
            path, timeout=timeout, config=os.environ.get("TMUXAGENT_CONFIG")
        )
        self._meta: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"Server({self.host.socket_path!r})"

    @property
    def log_limit(self) -> int:
        """The most bytes of output each new session's log keeps (0: all of it):
        ``log_limit``, else ``$TMUXAGENT_LOG_LIMIT`` (read when first needed: a
        bad value fails only a start that needs it), else 100 MiB."""
        if self._log_limit is None:
            from ._logwriter import DEFAULT_LOG_LIMIT, parse_log_limit

            value = os.environ.get("TMUXAGENT_LOG_LIMIT")
            self._log_limit = (
                parse_log_limit(value, "$TMUXAGENT_LOG_LIMIT") if value else DEFAULT_LOG_LIMIT
            )
        return self._log_limit

    @log_limit.setter
    def log_limit(self, value: int | str) -> None:
        from ._logwriter import parse_log_limit

        self._log_limit = parse_log_limit(value)

    @property
    def socket_path(self) -> Path:
        """The tmux server's socket."""
        from pathlib import Path

        return Path(self.host.socket_path)

    @property
    def state_root(self) -> Path:
        """Where the sessions' logs and state files live."""
        from pathlib import Path

        return Path(self.host.state_root)

    def libtmux(self) -> libtmux.Server:
        """This server as a ``libtmux.Server``, for code that already speaks libtmux.

        tmuxagent itself does not use libtmux to drive tmux: it runs one tmux
        process per call with no timeout, and costs ~10x a Python start to import.
        """
        import libtmux

        return libtmux.Server(socket_path=self.host.socket_path)

    def session(self, name: str) -> Session:
        """The session called ``name`` (checked when it is used)."""
        return Session(self, name)

    def is_running(self) -> bool:
        try:
            self.host.tmux(["list-sessions", "-F", "#{session_id}"])
        except ServerNotRunning:
            return False
        return True

    def start(
        self,
        name: str,
        command: Sequence[str] | None = None,
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        size: str | tuple[int, int] = DEFAULT_SIZE,
        record: bool = False,
        replace_env: bool = False,
        ready_timeout: float = READY_TIMEOUT,
        log_limit: int | str | None = None,
        wait: str | re.Pattern[str] | None = None,
        wait_idle: float | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Session:
        """Start ``command`` (argv) in a new session called ``name``.

        Without a command, starts the agent shell (bash with no pager, no
        history expansion, and exit codes recorded) and returns once its first
        prompt is up. The program gets this process's environment plus
        ``env`` (only ``env`` with ``replace_env``), and ``cwd`` (default:
        the current directory). ``record`` marks where a recording (asciicast
        export) starts. The log keeps the last ``log_limit`` bytes of output
        (default: the server's :attr:`log_limit`; 0: all of it).

        Returns once the program runs (exec succeeded). A program that cannot
        run (not executable, a directory, an interpreter on its ``#!`` line
        that does not exist, a binary for another machine) raises CannotRun,
        with nothing left behind: the name is free again; so does any other
        error, or a Ctrl-C, once tmux may have made the session.

        With ``wait`` (a regex) or ``wait_idle`` (seconds of a still screen)
        it returns once the program shows that, within ``timeout`` seconds,
        as :meth:`Session.send` waits: what it printed until then is in the
        session's :attr:`~Session.started` (``.output``, ``.match``). If it
        does not (WaitTimeout), or the program ends first (ProgramExited),
        the session stays, for a look at what it shows.
        """
        validate_name(name)
        after = None
        if wait is not None or wait_idle is not None:
            from ._waits import StepWait

            after = StepWait(wait, wait_idle, timeout)
        if log_limit is not None:
            from ._logwriter import parse_log_limit

            limit = parse_log_limit(log_limit)
        else:
            limit = self.log_limit
        check_timeout(ready_timeout)
        if isinstance(command, str):
            raise UsageError(
                f"command must be a list of words, e.g. {command.split()!r}, not a string"
            )
        cols, rows = parse_size(size)
        if cwd is not None and not os.fspath(cwd):
            raise UsageError("the working directory is empty; give a directory, or none for here")
        if cwd is None:
            try:
                cwd = os.getcwd()
            except FileNotFoundError:
                raise UsageError(
                    "the current directory no longer exists; pass a working directory (--cwd)"
                ) from None
        workdir = absolute(cwd)
        host = self.host
        host.prepare(workdir)
        session_id = SessionFiles.new_id()
        environment = session_environment(env, name, host.socket_path, replace_env, session_id)
        shell = not command
        argv = host.program(command, environment.get("PATH"), workdir)
        created = time.time()
        meta = {"name": name, "command": [] if shell else argv, "shell": shell,
                "created": created, "cwd": workdir, "log_limit": limit}  # fmt: skip
        token = None
        if shell:  # the prompt marker's secret; agent.bashrc takes it out of the environment
            from ._shell import new_token

            token = meta["prompt_token"] = environment["TMUXAGENT_PROMPT_TOKEN"] = new_token()
        files = host.create_files(session_id, meta)
        made = _Made()
        try:
            files.write_mark(Mark(0))
            launcher = host.launcher(files, argv, environment, workdir)
            self._new_session(name, files, launcher, cols, rows, workdir, limit, made)
            failed = host.launch_error(files, made.launcher)
            if failed is not None:  # leave nothing running, and the name free
                raise CannotRun(failed, argv[0])
            if record:
                host.start_recording(
                    files, started=created, offset=0, cols=cols, rows=rows, screen=""
                )
            session = Session(self, name)
            session._at.made(files.root)
            if shell:
                from ._waits import wait_first_prompt

                wait_first_prompt(session, files, ready_timeout, token)
            if after is not None:
                from ._input import Sent

                try:
                    session.started = after.finish(session, files.mark(), Sent())
                except (WaitTimeout, ProgramExited):
                    # The program started: what it did (or did not) show is
                    # for the caller to look at, as these errors say.
                    made.keep = True
                    raise
        except BaseException:  # leave nothing running and the name free, then say why
            if not made.keep:
                try:
                    self._undo_start(name, files, made)
                except Exception:  # best effort: what went wrong first is the news
                    pass
            raise
        return session

    def _new_session(
        self, name: str, files: SessionFiles, launcher: list[str], cols: int, rows: int, cwd: str,
        log_limit: int, made: _Made,
    ) -> None:  # fmt: skip
        """Make the session, noting in ``made`` what tmux may have made."""
        target = session_target(name)
        for attempt in range(2):
            made.sent = True  # from here on, tmux may make the session (even if we give up)
            try:
                answer = self.host.tmux(
                    *(["set", scope, option, value] for scope, option, value in _SERVER_OPTIONS),
                    [
                        "new-session", "-d", "-P", "-F", "#{session_id} #{pane_pid}",
                        "-s", encode_name(name),
                        "-x", str(cols), "-y", str(rows), "-c", format_escape(cwd), "--", *launcher,
                    ],
                    # tmux 3.3a crashes on new-session with a global 'manual' size.
                    ["set", "-w", "-t", target, "window-size", "manual"],
                    ["set", "-p", "-t", target, "@tmuxagent_pane", "1"],
                    ["set", "-t", target, "@tmuxagent_dir", files.root],
                    ["set", "-t", target, "@tmuxagent_name", name],
                    # In the same call: the pipe is attached before tmux reads a
                    # single byte of the program's output.
                    ["pipe-pane", "-t", target, self.host.log_pipe(files, log_limit)],
                )  # fmt: skip
            except CommandFailed as exc:
                # tmux stops at the first command that fails: a session id in
                # its answer means new-session ran (start's undo kills that).
                created = exc.stdout.split(" ")[0]
                made.sent = created.startswith("$")
                made.id = created if made.sent else ""
                if "duplicate session" in exc.stderr:
                    if attempt == 0 and self._clear_leftover(name):
                        continue
                    raise SessionExists(name) from None
                raise
            except (ForeignServer, TmuxNotFound):
                made.sent = False  # refused before any tmux server heard it
                raise
            made.id, pid = answer.split()[:2]
            made.launcher = int(pid)
            return

    def _clear_leftover(self, name: str) -> bool:
        """Kill the session called ``name`` if a failed start left it behind
        (True: the name may be free now): a tmuxagent session whose files are
        gone ("its files are gone" in ``list``) and whose program has ended
        (a young one may be its launcher, finding no files: it ends at once).
        Nothing runs there, nothing of it can be read, every verb says to kill
        it. A live program whose files are gone (removed by hand, by a /tmp
        cleaner) may still do work someone wants: its name stays taken."""
        host = self.host
        command = ["list-panes", "-s", "-t", session_target(name), "-f", "#{@tmuxagent_pane}", "-F"]
        deadline = Deadline(LEFTOVER_WAIT)
        while True:
            try:
                panes = list_panes(host, command)
            except (CommandFailed, ServerNotRunning):
                return True  # gone meanwhile: try again
            if len(panes) != 1 or host.files(panes[0].state_dir) is not None:
                return False
            pane = panes[0]
            if pane.dead:  # by its pane's id, never a later session of the name
                host.end_session(None, pane.id, None)
                return True
            if deadline.passed or time.time() - pane.created > LEFTOVER_WAIT:
                return False
            deadline.sleep(PROCESS_INTERVAL)

    def _undo_start(self, name: str, files: SessionFiles, made: _Made) -> None:
        """End what a failed start made, within :data:`UNDO_TIMEOUT` (a Ctrl-C
        waits): its session (by the id tmux gave, or by its files: never
        another of the name), and its files. A tmux that does not answer may
        make the session later: see :meth:`_clear_leftover`."""
        from ._input import held_interrupt

        host = self.host
        with held_interrupt(), calls_within(Deadline(UNDO_TIMEOUT)):
            target = made.id
            if made.sent and not target:
                fmt = "#{session_id} #{@tmuxagent_dir}"
                look = ["display", "-p", "-t", session_target(name), fmt]
                try:
                    sid, _, root = host.tmux(look).removesuffix("\n").partition(" ")
                    target = sid if root == files.root else ""
                except TmuxError:  # no such session, or no answer
                    pass
            if made.sent and target:
                try:
                    host.end_session(files, target, files.program_pid() or None)
                except TmuxError:
                    pass
            files.remove()

    def _panes(self) -> list[Pane]:
        try:
            panes = list_panes(self.host, ["list-panes", "-a", "-f", "#{@tmuxagent_pane}", "-F"])
        except ServerNotRunning:
            return []
        except CommandFailed as exc:
            # A server without a session (still running for a client, or
            # about to exit) has no current target to list from.
            if "no current target" in exc.stderr:
                return []
            raise
        return [settle_status(self.host, p) if p.status_pending else p for p in panes]

    def sessions(self) -> list[SessionInfo]:
        """Every tmuxagent session on this server, oldest first."""
        infos = []
        known: dict[str, dict[str, Any]] = {}
        for pane in self._panes():
            files = self.host.files(pane.state_dir)  # None: gone, but the session is not
            meta = self._meta.get(pane.state_dir)
            if meta is None:  # written once by start: read it once
                meta = files.meta() if files else {}
            known[pane.state_dir] = meta
            infos.append(session_info(self.host, pane, files, meta))
        self._meta = known  # forget the sessions that are gone
        return sorted(infos, key=lambda i: (i.created, i.name))

    def states(self, sessions: Iterable[SessionInfo] | None = None) -> dict[str, State]:
        """What each session's program is doing (see :meth:`Session.state`),
        for ``sessions`` as :meth:`sessions` gave them (default: all), in
        one tmux call. Sessions that are gone are left out."""
        from ._states import states

        return states(self.host, list(self.sessions() if sessions is None else sessions))

    def events(
        self, names: Iterable[str] = (), *, timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """What happens to sessions (all, or those of ``names``), as dicts,
        as it happens, for ``timeout`` seconds (None: for ever): ``started``,
        ``state`` (with ``state``, ``previous``, ``detail``, ``profile``),
        ``exited`` (``exit_status``, ``signal``), ``gone``; each with
        ``session`` and ``time``."""
        from ._events import events

        return events(self, names, timeout=timeout)

    def output_sizes(self, sessions: Iterable[SessionInfo]) -> dict[str, int]:
        """How many bytes of output each of ``sessions`` (as :meth:`sessions`
        gave them) has written by now, from their logs, without asking tmux:
        cheap enough for a dashboard to ask ten times a second. Sessions
        whose files are gone are left out."""
        sizes = {}
        for info in sessions:
            files = self.host.files(os.path.dirname(info.log)) if info.log else None
            if files is not None:
                sizes[info.name] = files.log_size()
        return sizes

    def screens(
        self, names: Iterable[str], *, ansi: bool = False, history: int = 0
    ) -> dict[str, Capture]:
        """The screens of several sessions, in a single tmux call.

        For dashboards: ``ansi`` keeps colours, ``history`` adds that many
        lines of scrollback. Rows are as on the screen (not joined). Sessions
        that are gone are left out of the result.
        """
        return screens(self.host, names, ansi=ansi, history=history)

    def kill_all(self) -> int:
        """Kill every session and the server itself; returns how many sessions."""
        try:
            every = self._panes()
        except ForeignServer:
            raise  # not ours to end
        except TmuxError:  # no answer: the server hangs
            self.host.end_unresponsive()
            return 0
        self.host.end_server([p.pid for p in every if not p.dead])
        return len(every)

    def attach_command(self, name: str, *, read_only: bool = False) -> list[str]:
        return self.session(name).attach_command(read_only=read_only)
