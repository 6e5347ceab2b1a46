"""tmuxagent's private tmux server: where it is, how sessions start, listing."""

from __future__ import annotations

import os
import sys
import time

from ._names import decode_name, encode_name, session_target, validate_name
from ._runner import CommandFailed, Runner, ServerNotRunning, format_escape
from ._state import Mark, SessionFiles, secure_dir
from .errors import SessionExists, TmuxError, UsageError, WaitTimeout
from .session import (
    HISTORY_LINES,
    PANE_FORMAT,
    Capture,
    Pane,
    Session,
    SessionInfo,
    pipe_command,
    reap,
    settle_status,
    tidy_rows,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    import libtmux

DEFAULT_SIZE = (120, 40)
HISTORY_LIMIT = HISTORY_LINES
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
AGENT_BASHRC = os.path.join(_PACKAGE, "agent.bashrc")
_LAUNCHER = os.path.join(_PACKAGE, "_launch.py")

#: Server options, set before every new session (so they hold even on a server
#: that tmuxagent did not start, and apply to the session's first pane).
_SERVER_OPTIONS = (
    ("-g", "history-limit", str(HISTORY_LIMIT)),
    ("-g", "remain-on-exit", "on"),
    ("-g", "default-terminal", "tmux-256color"),
    ("-s", "escape-time", "10"),
    ("-g", "status-left", "[#{@tmuxagent_name}] "),
    ("-g", "status-left-length", "40"),
    ("-g", "status-right", "tmuxagent | detach: C-b d "),
)


def _absolute(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def default_socket() -> str:
    """``$TMUXAGENT_SOCKET``, else ``<dir>/default`` in a private directory:
    ``$TMUXAGENT_SOCKET_DIR``, else ``${XDG_RUNTIME_DIR:-/tmp}/tmuxagent-$UID``."""
    explicit = os.environ.get("TMUXAGENT_SOCKET")
    if explicit:
        return _absolute(explicit)
    base = os.environ.get("TMUXAGENT_SOCKET_DIR") or os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"tmuxagent-{os.getuid()}"
    )
    return os.path.join(secure_dir(_absolute(base), what="socket directory"), "default")


def parse_size(size: str | tuple[int, int]) -> tuple[int, int]:
    """``'120x40'`` or ``(120, 40)`` to ``(cols, rows)``, checked."""
    if isinstance(size, str):
        cols_s, sep, rows_s = size.lower().partition("x")
        if (
            not sep
            or not (cols_s + rows_s).isascii()
            or not (cols_s.isdigit() and rows_s.isdigit())
        ):
            raise UsageError(f"invalid size {size!r}; use COLSxROWS, e.g. 120x40")
        cols, rows = int(cols_s), int(rows_s)
    else:
        cols, rows = size
    if not (10 <= cols <= 1000 and 2 <= rows <= 1000):
        raise UsageError(f"invalid size {cols}x{rows}; columns 10-1000, rows 2-1000")
    return cols, rows


def _environment(
    env: Mapping[str, str] | None, name: str, socket: str, replace: bool, session_id: str
) -> dict[str, str]:
    if replace:
        environment: dict[str, str] = {}
    else:
        environment = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        if not any(environment.get(k) for k in ("LC_ALL", "LC_CTYPE", "LANG")):
            environment["LANG"] = "C.UTF-8"  # or unicode arrives as '?'
        environment["TMUXAGENT_SOCKET"] = socket
        environment["TMUXAGENT_SESSION"] = name
        # What kill looks for in processes that left the pane's process tree.
        environment["TMUXAGENT_SESSION_ID"] = session_id
    for key, value in (env or {}).items():
        if not key or "=" in key or "\0" in key or "\0" in value:
            raise UsageError(f"invalid environment variable {key!r}")
        environment[key] = value
    return environment


def _resolve_program(argv: list[str], path: str | None, cwd: str) -> None:
    import shutil

    program = argv[0]
    if "/" in program:
        candidate = os.path.join(cwd, program)
        if os.access(candidate, os.X_OK) and os.path.isfile(candidate):
            return
        raise UsageError(f"cannot run {program!r}: no such executable file")
    if shutil.which(program, path=path) is None:
        hint = (
            "; give the program and its arguments as separate words "
            "(tmuxagent start NAME -- python3 -q), or use sh -c '...'"
            if " " in program
            else ""
        )
        raise UsageError(f"command not found: {program!r}{hint}")


class Server:
    """A private tmux server for agent sessions.

    ``socket`` defaults to :func:`default_socket`. Nothing runs until the first
    :meth:`start`; the server exits when its last session is killed.
    """

    def __init__(self, socket: str | os.PathLike[str] | None = None, *, timeout: float = 10.0):
        self._socket = default_socket() if socket is None else _absolute(socket)
        self._state_root = self._socket + ".tmuxagent"
        self._runner = Runner(
            self._socket, timeout=timeout, config=os.environ.get("TMUXAGENT_CONFIG")
        )
        self._meta: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"Server({self._socket!r})"

    @property
    def socket_path(self) -> Path:
        """The tmux server's socket."""
        from pathlib import Path

        return Path(self._socket)

    @property
    def state_root(self) -> Path:
        """Where the sessions' logs and state files live."""
        from pathlib import Path

        return Path(self._state_root)

    def libtmux(self) -> libtmux.Server:
        """This server as a ``libtmux.Server``, for code that already speaks libtmux.

        tmuxagent itself does not use libtmux to drive tmux: it runs one tmux
        process per call with no timeout, and costs ~10x a Python start to import.
        """
        import libtmux

        return libtmux.Server(socket_path=self._socket)

    def session(self, name: str) -> Session:
        """The session called ``name`` (checked when it is used)."""
        return Session(self, name)

    def is_running(self) -> bool:
        try:
            self._runner.run(["list-sessions", "-F", "#{session_id}"])
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
        ready_timeout: float = 10.0,
    ) -> Session:
        """Start ``command`` (argv) in a new session called ``name``.

        Without a command, starts the agent shell (bash with no pager, no
        history expansion, and exit codes recorded) and returns once its first
        prompt is up. The program gets this process's environment plus
        ``env`` (only ``env`` with ``replace_env``), and ``cwd`` (default:
        the current directory). ``record`` keeps timing for asciicast export.
        """
        import json
        import shutil

        validate_name(name)
        if isinstance(command, str):
            raise UsageError(
                f"command must be a list of words, e.g. {command.split()!r}, not a string"
            )
        cols, rows = parse_size(size)
        if cwd is None:
            try:
                cwd = os.getcwd()
            except FileNotFoundError:
                raise UsageError(
                    "the current directory no longer exists; pass a working directory (--cwd)"
                ) from None
        workdir = _absolute(cwd)
        if not os.path.isdir(workdir):
            raise UsageError(f"working directory {workdir!r} does not exist")

        parent = os.path.dirname(self._socket)
        try:
            os.makedirs(parent, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {parent}: {exc.strerror}") from None
        session_id = SessionFiles.new_id()
        environment = _environment(env, name, self._socket, replace_env, session_id)
        shell = not command
        if shell:
            bash = shutil.which("bash", path=environment.get("PATH"))
            if bash is None:
                raise UsageError("bash was not found on PATH; the agent shell needs it")
            argv = [bash, "--noprofile", "--rcfile", AGENT_BASHRC, "-i"]
        else:
            argv = [str(a) for a in command or ()]
            _resolve_program(argv, environment.get("PATH"), workdir)

        files = SessionFiles.create(self._state_root, session_id)
        meta_created = time.time()
        files.write_meta(
            {
                "name": name,
                "command": [] if shell else argv,
                "shell": shell,
                "created": meta_created,
                "cwd": workdir,
            }
        )
        files.write_mark(Mark(0))
        fd = os.open(files.launch_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            json.dump({"argv": argv, "env": environment, "cwd": workdir}, f)
        pane = session_target(name)
        try:
            self._runner.run(
                *(["set", scope, option, value] for scope, option, value in _SERVER_OPTIONS),
                [
                    "new-session", "-d", "-P", "-F", "#{session_id}", "-s", encode_name(name),
                    "-x", str(cols), "-y", str(rows), "-c", format_escape(workdir),
                    "--", sys.executable, "-I", "-S", _LAUNCHER, files.launch_path,
                ],
                # tmux 3.3a crashes on new-session with a global 'manual' size.
                ["set", "-w", "-t", pane, "window-size", "manual"],
                ["set", "-p", "-t", pane, "@tmuxagent_pane", "1"],
                ["set", "-t", pane, "@tmuxagent_dir", files.root],
                ["set", "-t", pane, "@tmuxagent_name", name],
                # In the same call: the pipe is attached before tmux reads a
                # single byte of the program's output.
                ["pipe-pane", "-t", pane, pipe_command(files)],
            )  # fmt: skip
        except CommandFailed as exc:
            files.remove()
            if "duplicate session" in exc.stderr:
                raise SessionExists(name) from None
            created = exc.stdout.strip()
            if created.startswith("$"):  # do not leave half a session behind
                try:
                    self._runner.run(["kill-session", "-t", created])
                except TmuxError:
                    pass
            raise
        except BaseException:
            files.remove()
            raise
        session = Session(self, name)
        if record:
            from . import _record

            self._runner.run(
                _record.begin(
                    files, started=meta_created, offset=0, cols=cols, rows=rows, screen=""
                )
            )
        if shell:
            self._wait_first_prompt(session, files, ready_timeout)
        return session

    def _wait_first_prompt(self, session: Session, files: SessionFiles, timeout: float) -> None:
        from ._output import PROMPT_MARKER

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if PROMPT_MARKER in files.read_log(0, 1 << 20):
                return
            time.sleep(0.005)
        raise WaitTimeout("the agent shell's first prompt", timeout, session._screen_tail())

    def _info(self, pane: Pane) -> SessionInfo:
        import shlex

        from ._record import is_recording

        files = SessionFiles(pane.state_dir)
        meta = self._meta.get(pane.state_dir)
        if meta is None:  # written once by start: read it once
            meta = self._meta[pane.state_dir] = files.meta()
        argv = meta.get("command") or []
        try:
            stat = os.stat(files.log)
            size, mtime = stat.st_size, stat.st_mtime
        except OSError:
            size, mtime = 0, 0.0
        return SessionInfo(
            name=meta.get("name") or decode_name(pane.tmux_name),
            command=shlex.join(argv) if argv else "bash (agent shell)",
            pid=pane.pid,
            alive=not pane.dead,
            exit_status=pane.exit_status,
            signal=pane.signal,
            cols=pane.cols,
            rows=pane.rows,
            idle=max(0.0, time.time() - mtime) if mtime else 0.0,
            last_output=mtime,
            output_bytes=size,
            created=float(meta.get("created") or pane.created),
            cwd=pane.cwd or meta.get("cwd", ""),  # a dead pane has no directory
            attached=pane.attached > 0,
            shell=bool(meta.get("shell")),
            recording=is_recording(files),
            log=files.log,
        )

    def _panes(self) -> list[Pane]:
        try:
            out = self._runner.run(
                ["list-panes", "-a", "-f", "#{@tmuxagent_pane}", "-F", PANE_FORMAT]
            )
        except ServerNotRunning:
            return []
        panes = [Pane(line) for line in out.splitlines() if line]
        return [settle_status(self._runner, p) if p.status_pending else p for p in panes]

    def sessions(self) -> list[SessionInfo]:
        """Every tmuxagent session on this server, oldest first."""
        infos = [self._info(pane) for pane in self._panes()]
        return sorted(infos, key=lambda i: (i.created, i.name))

    def screens(
        self, names: Iterable[str], *, ansi: bool = False, history: int = 0
    ) -> dict[str, Capture]:
        """The screens of several sessions, in a single tmux call.

        For dashboards: ``ansi`` keeps colours, ``history`` adds that many
        lines of scrollback. Rows are as on the screen (not joined). Sessions
        that are gone are left out of the result.
        """
        wanted = list(names)
        if not wanted:
            return {}
        mark = f"\x1etmuxagent-{os.urandom(6).hex()}\x1e"
        head = mark + "#{cursor_x} #{cursor_y} #{pane_width} #{pane_height} #{pane_dead} "
        head += "#{history_size}"
        commands: list[list[str]] = []
        for name in wanted:
            target = session_target(name)
            capture = ["capture-pane", "-p", "-t", target, "-S", f"-{max(1, history)}"]
            if ansi:
                capture.append("-e")
            commands += [["display", "-p", "-t", target, head], capture]
        failed = False
        try:
            out = self._runner.run(*commands)
        except ServerNotRunning:
            return {}
        except CommandFailed as exc:  # a session went away: tmux stopped there
            out, failed = exc.stdout, True
        result: dict[str, Capture] = {}
        for name, chunk in zip(wanted, out.split(mark)[1:], strict=False):
            facts, _, text = chunk.partition("\n")
            try:
                x, y, cols, rows, dead, scrolled = (int(v) for v in facts.split())
            except ValueError:
                continue
            if not history and not dead and scrolled:
                text = text.partition("\n")[2]  # one line of history was only for dead panes
            lines = tidy_rows(text, dead == 1)
            result[name] = Capture("\n".join(lines), x, y, cols, rows, dead == 0)
        if failed:
            rest = wanted[len(result) + 1 :]  # after the one that failed
            result.update(self.screens(rest, ansi=ansi, history=history))
        return result

    def kill_all(self) -> int:
        """Kill every session and the server itself; returns how many sessions."""
        import shutil

        try:
            every = self._panes()
        except TmuxError:  # no answer: the server hangs
            return self._kill_unresponsive()
        count = len(every)
        panes = [p for p in every if not p.dead]
        started = self._runner.descendants(*(p.pid for p in panes))
        started += self._runner.processes_with_env("TMUXAGENT_SOCKET", self._socket)
        try:
            self._runner.run(["kill-server"])
        except (ServerNotRunning, CommandFailed):
            pass
        reap(self._runner, [p.pid for p in panes], sorted(set(started)))
        shutil.rmtree(self._state_root, ignore_errors=True)
        return count

    def _kill_unresponsive(self) -> int:
        """kill_all for a server that does not answer: signal it directly."""
        import shutil
        import signal

        runner = self._runner
        started = runner.processes_with_env("TMUXAGENT_SOCKET", self._socket)
        for pid in runner.server_pids():
            runner.signal_process(pid, signal.SIGKILL)
        reap(runner, [], started)
        shutil.rmtree(self._state_root, ignore_errors=True)
        try:
            os.unlink(self._socket)
        except OSError:
            pass
        return 0

    def attach_command(self, name: str, *, read_only: bool = False) -> list[str]:
        return self.session(name).attach_command(read_only=read_only)
