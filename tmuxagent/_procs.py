"""This machine's processes: finding, signalling and reaping them through /proc.

Used only by the local host (``_host.py``): a program's processes live where
tmux runs. Without /proc (macOS) the searches find nothing and the checks
fall back to what ``kill(pid, 0)`` can tell.
"""

from __future__ import annotations

import os

from ._poll import PROCESS_INTERVAL, poll_until

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_GONE = (b"Z", b"X")  # process states: zombie, dead


def pids() -> list[int]:
    """Every process id this user can see."""
    try:
        return [int(e) for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []


def stat(pid: int) -> list[bytes] | None:
    """``/proc/PID/stat`` after the command name: state, ppid, pgrp, ... (None: gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2 :].split()  # the name may hold spaces and parens


def send(pid: int, sig: int) -> None:
    """Send ``sig`` to one process, if it is still there."""
    if pid > 0:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def send_group(pgid: int, sig: int) -> None:
    """Send ``sig`` to a process group, if it is still there."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def alive(pid: int) -> bool:
    """Whether ``pid`` is running (and not a zombie)."""
    fields = stat(pid)
    return fields is not None and fields[0] not in _GONE


def group_alive(pgid: int) -> bool:
    """Whether a process group still has a live (non-zombie) member.

    Killed panes can linger as zombies where nobody reaps orphans (PID 1
    of many containers), so a plain ``killpg(pgid, 0)`` is not enough.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for pid in pids():
        fields = stat(pid)
        if fields and len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in _GONE:
            return True
    return not os.path.isdir("/proc")


def descendants(*parents: int) -> list[int]:
    """The processes started by ``parents``, their children, and so on.

    Read before a pane is killed: a program that left the pane's process
    group (``setsid``) is still found through its parent.
    """
    children: dict[int, list[int]] = {}
    for child in pids():
        fields = stat(child)
        if fields and len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(child)
    found: list[int] = []
    todo = list(parents)
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _own_pids() -> list[int]:
    """Every other process of this user (root sees everyone's: those are not
    ours to end)."""
    me, euid = os.getpid(), os.geteuid()
    found = []
    for pid in pids():
        try:
            if pid != me and os.stat(f"/proc/{pid}").st_uid == euid:
                found.append(pid)
        except OSError:
            continue
    return found


def _read(pid: int, name: str) -> bytes | None:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return None


def with_env(name: str, value: str) -> list[int]:
    """Processes (of this user) whose environment holds ``name=value``.

    Programs that daemonize leave the pane's process tree, but keep the
    environment tmuxagent gave them.
    """
    wanted = f"{name}={value}".encode()
    return [pid for pid in _own_pids() if wanted in (_read(pid, "environ") or b"").split(b"\0")]


#: The most seconds a new pane's launcher may take to start its program.
LAUNCH_TIMEOUT = 5.0


def wait_program_pid(noted: Callable[[], int | None], pane_pid: int, alive: bool) -> int:
    """The pid of a session's program, once its launcher has noted it.

    The pane's process (``pane_pid``) is the launcher (``_launch.py``), which
    notes its program's pid (``noted()``: None while it has not) as it starts
    it, and 0 once the program is reaped; a live pane whose launcher has not
    noted it yet is waited for. Sessions of an older tmuxagent, whose
    launcher became the program, have no note: their program is the pane's
    process.
    """

    def look() -> int | None:
        pid = noted()
        if pid is not None:
            return pid
        return None if _is_launcher(pane_pid) else 0

    pid = noted()
    if pid is None and alive:
        pid = poll_until(look, LAUNCH_TIMEOUT, interval=0.002)
    return pid or pane_pid


def wait_started(noted: Callable[[], int | None], launcher: int) -> str:
    """Wait until a new session's launcher has noted its program's pid:
    "noted" once the program runs, or once the child that was to become it
    has given up (having written why); "ended" if the launcher ended first;
    "slow" if neither happened within LAUNCH_TIMEOUT."""

    def look() -> str | None:
        if noted() is not None:
            return "noted"
        if alive(launcher) or not os.path.isdir("/proc"):  # without /proc: wait for the note
            return None
        return "ended"

    return poll_until(look, LAUNCH_TIMEOUT, interval=0.002) or "slow"


def _is_launcher(pid: int) -> bool:
    """Whether ``pid`` runs tmuxagent's launcher (True when this machine cannot tell)."""
    cmdline = _read(pid, "cmdline")
    if cmdline is None:
        return not os.path.isdir("/proc")
    args = cmdline.split(b"\0")  # python -I -S -c BOOT .../_launch.py SPEC: _launch.command
    return len(args) > 5 and args[1:4] == [b"-I", b"-S", b"-c"] and args[5].endswith(b"/_launch.py")


def tmux_servers(socket_path: str) -> list[int]:
    """The tmux server process(es) of this user started on ``socket_path``.

    Found by the socket path on the command line (tmux names its server
    process 'tmux: server').
    """
    wanted = os.fsencode(socket_path)
    return [
        pid
        for pid in _own_pids()
        if (_read(pid, "comm") or b"").strip() == b"tmux: server"
        and wanted in (_read(pid, "cmdline") or b"").split(b"\0")
    ]


def writers_idle(path: str) -> bool | None:
    """Whether the processes writing ``path`` (their stdout) have nothing left.

    That is: each is asleep in a read of its input, so everything it was
    given is written. None when this machine cannot tell (no /proc).
    """
    if not os.path.isdir("/proc"):
        return None
    for pid in pids():
        try:
            if os.readlink(f"/proc/{pid}/fd/1") != path:
                continue
            with open(f"/proc/{pid}/wchan", "rb") as f:
                wchan = f.read()
        except OSError:
            continue
        fields = stat(pid)
        if not fields or fields[0] != b"S" or b"read" not in wchan:
            return False
    return True


def reap(groups: list[int], started: list[int], grace: float = 1.0) -> None:
    """Make sure killed panes leave nothing running.

    ``groups`` are the panes' process ids (each leads its process group),
    ``started`` what they had started, found before the kill (some programs
    leave the group with ``setsid``). tmux hangs up the pane's terminal, which
    ends almost every program; whatever survives gets SIGTERM, then SIGKILL.
    """
    import signal  # not at the top: the CLI's hot path does not signal

    pending = [(True, pid) for pid in groups] + [(False, pid) for pid in started]

    def survivors() -> list[tuple[bool, int]] | None:
        nonlocal pending
        pending = [(g, pid) for g, pid in pending if (group_alive if g else alive)(pid)]
        return None if pending else []

    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            for group, pid in pending:
                (send_group if group else send)(pid, sig)
        if poll_until(survivors, grace / 2, interval=PROCESS_INTERVAL) is not None:
            return
