"""A pane's terminal, seen from this machine: what its program has not read
yet, whether it reads keys or lines, and whether it waits for input.

Used by the local host (``_host.py``): for ``press_enter`` (``_input.py``).
"""

from __future__ import annotations

import os

from ._poll import LOG_INTERVAL, Deadline, poll_until

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class TerminalInput:
    """What waits in a pane's terminal for its program to read it.

    tmux writes what is typed to the pty's master side; the bytes then wait
    in the terminal's input queue until the program reads them, and FIONREAD
    on the terminal counts them. The terminal is opened read-only (nothing
    is taken from the queue), without becoming anyone's controlling terminal;
    :meth:`open` gives None for anything that is not a terminal. In canonical
    (line) mode the kernel counts only finished lines, so text typed without
    Enter counts 0 there.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def open(cls, path: str) -> TerminalInput | None:
        if not path.startswith(("/dev/pts/", "/dev/tty")):
            return None  # only a terminal: opening some other devices does things
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return None
        if not os.isatty(fd):
            os.close(fd)
            return None
        return cls(fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def unread(self) -> int:
        """Bytes the program has not read yet (0 when that cannot be told)."""
        import fcntl
        import struct
        import termios

        try:
            count: int = struct.unpack("i", fcntl.ioctl(self.fd, termios.FIONREAD, bytes(4)))[0]
        except OSError:
            return 0
        return count

    def raw(self) -> bool:
        """Whether the program reads keys as they come, not lines (ICANON off)."""
        import termios

        try:
            return not termios.tcgetattr(self.fd)[3] & termios.ICANON
        except termios.error:
            return False

    def echoes(self) -> bool:
        """Whether typed text shows: False only in line mode with echo off."""
        import termios

        try:
            flags = termios.tcgetattr(self.fd)[3]
        except termios.error:
            return True
        return not (flags & termios.ICANON and not flags & termios.ECHO)

    def wait_read(self, deadline: Deadline | float) -> bool:
        """Wait until the program has read all its input; False at the deadline."""
        return poll_until(lambda: self.unread() == 0, deadline, interval=LOG_INTERVAL) is True


#: Where a process sleeps (``/proc/PID/wchan``) while it waits for input: in
#: poll, select or epoll, or in a read of the terminal (``wait_woken``).
_POLLING = ("poll_schedule_timeout", "do_select", "core_sys_select", "do_sys_poll", "ep_poll",
            "do_epoll_wait")  # fmt: skip
_READING = ("wait_woken", "n_tty_read")


def input_wait(pid: int) -> str | None:
    """How the foreground process of the terminal that process ``pid`` is on
    waits, if it sleeps waiting for input: ``"poll"`` (poll, select, epoll,
    with its terminal in raw mode: readline, most REPLs, TUIs), ``"read"`` (a
    read of the terminal, or a write blocked on it, which looks the same).
    None otherwise: it runs, or sleeps on something else (a timer, a socket,
    a lock, a disk), or this cannot be told (no /proc).
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        group = int(stat[stat.rindex(b")") + 2 :].split()[5])  # tpgid
        if group > 0 and group != pid:
            with open(f"/proc/{group}/stat", "rb") as f:
                stat = f.read()
        else:
            group = pid
        if stat[stat.rindex(b")") + 2 :][:1] != b"S":
            return None
        with open(f"/proc/{group}/wchan", "rb") as f:
            wchan = f.read().decode("ascii", "replace")
    except (OSError, ValueError, IndexError):
        return None
    if wchan.startswith(_READING):
        return "read"
    if not wchan.startswith(_POLLING):
        return None
    # Any event loop sleeps in poll (on a timer, a socket): only one that has
    # put its terminal in raw mode (readline, REPLs, TUIs) waits for keys.
    return "poll" if _ask(group, TerminalInput.raw, False) else None


def echoes(pid: int) -> bool:
    """Whether the terminal of process ``pid`` shows typed text (see
    :meth:`TerminalInput.echoes`; True when that cannot be told)."""
    return _ask(pid, TerminalInput.echoes, True)


def set_echo(tty: str, on: bool) -> bool:
    """Turn the echo of terminal ``tty`` (a pane's) on or off, as ``stty
    echo``/``-echo``; False when it is not a terminal that can be reached."""
    import termios

    terminal = TerminalInput.open(tty)
    if terminal is None:
        return False
    try:
        attrs = termios.tcgetattr(terminal.fd)
        attrs[3] = attrs[3] | termios.ECHO if on else attrs[3] & ~termios.ECHO
        termios.tcsetattr(terminal.fd, termios.TCSANOW, attrs)
        return True
    except termios.error:
        return False
    finally:
        terminal.close()


def echo_on(tty: str) -> bool | None:
    """Whether terminal ``tty`` has its echo on (None: it cannot be told)."""
    import termios

    terminal = TerminalInput.open(tty)
    if terminal is None:
        return None
    try:
        return bool(termios.tcgetattr(terminal.fd)[3] & termios.ECHO)
    except termios.error:
        return None
    finally:
        terminal.close()


def _ask(pid: int, question: Callable[[TerminalInput], bool], unknown: bool) -> bool:
    """``question`` of the terminal that is process ``pid``'s stdin
    (``unknown`` when it has none, or it cannot be opened)."""
    try:
        terminal = TerminalInput.open(os.readlink(f"/proc/{pid}/fd/0"))
    except OSError:
        return unknown
    if terminal is None:
        return unknown
    try:
        return question(terminal)
    finally:
        terminal.close()
