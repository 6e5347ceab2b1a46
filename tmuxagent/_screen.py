"""The screen: what panes show now, as tmux itself renders it (``capture-pane``).

For the stream of everything a program wrote, see ``_output.py``.
"""

from __future__ import annotations

import os

from ._names import session_target
from ._poll import Every, poll_until
from ._records import Capture
from .errors import CommandFailed, ServerNotRunning, UsageError, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from ._files import SessionFiles
    from ._host import Host
    from ._pane import Pane
    from ._poll import Deadline

#: tmuxagent's history-limit: no pane keeps more scrollback than this.
HISTORY_LINES = 50_000
#: The size of a new session's window (columns, rows).
DEFAULT_SIZE = (120, 40)


def parse_size(size: str | tuple[int, int]) -> tuple[int, int]:
    """``'120x40'`` or ``(120, 40)`` to ``(cols, rows)``, checked."""
    if isinstance(size, str):
        cols_s, sep, rows_s = size.lower().partition("x")
        if (
            not sep
            or not (cols_s + rows_s).isascii()
            or not (cols_s.isdigit() and rows_s.isdigit())
        ):
            raise UsageError(f"invalid size {shown(size)}; use COLSxROWS, e.g. 120x40")
        if max(len(cols_s.lstrip("0")), len(rows_s.lstrip("0"))) > 4:  # int() stops at 4300
            raise UsageError(f"size {shown(size)} is too large; columns 10-1000, rows 2-1000")
        cols, rows = int(cols_s), int(rows_s)
    else:
        cols, rows = size
    if not (10 <= cols <= 1000 and 2 <= rows <= 1000):
        raise UsageError(f"invalid size {cols}x{rows}; columns 10-1000, rows 2-1000")
    return cols, rows


def capture_text(host: Host, pane_id: str, args: list[str]) -> str:
    """``capture-pane`` of one pane, wrapped lines joined."""
    return host.tmux(["capture-pane", "-p", "-J", "-t", pane_id, *args])


def replay(host: Host, pane: Pane) -> str:
    """Escape sequences that draw the pane's screen as it is now, cursor and all."""
    screen = capture_text(host, pane.id, ["-e"]).rstrip("\n").split("\n")
    return "\x1b[H\x1b[2J" + "\r\n".join(screen) + f"\x1b[{pane.y + 1};{pane.x + 1}H"


def capture(host: Host, pane: Pane, *, lines: int | None, history: bool, ansi: bool) -> Capture:
    """The screen of ``pane``; with ``lines`` the last N lines including
    scrollback, with ``history`` all of the scrollback."""
    if lines is not None and lines > HISTORY_LINES:
        lines, history = None, True  # more than tmux keeps: all of it
    args = ["-e"] if ansi else []
    if history:
        args += ["-S", "-"]
    elif lines is not None:
        args += ["-S", f"-{lines}"]
    elif pane.dead:
        args += ["-S", "-1"]  # see tidy_rows
    rows = tidy_rows(capture_text(host, pane.id, args), pane.dead)
    if lines is not None:
        rows = rows[-lines:]
    return Capture("\n".join(rows), pane.x, pane.y, pane.cols, pane.rows, not pane.dead)


#: Bytes of arguments in one tmux call, at most: tmux refuses a command line
#: of about 16 KB ("command too long"; 15,000 characters pass).
COMMAND_BYTES = 12_000


def screens(
    host: Host, names: Iterable[str], *, ansi: bool = False, history: int = 0
) -> dict[str, Capture]:
    """The screens of several sessions, in a single tmux call.

    Rows are as on the screen (not joined). Sessions that are gone are left
    out of the result.
    """
    shown = screens_and_facts(host, names, ansi=ansi, history=history)
    return {name: capture for name, (capture, _) in shown.items()}


def screens_and_facts(
    host: Host, names: Iterable[str], *, ansi: bool = False, history: int = 0,
    facts: Sequence[str] = (),
) -> dict[str, tuple[Capture, tuple[str, ...]]]:  # fmt: skip
    """:func:`screens`, and for each session the values of ``facts`` (more
    of tmux's format variables), in that order."""
    wanted = list(names)
    if not wanted:
        return {}
    mark = f"\x1etmuxagent-{os.urandom(6).hex()}\x1e"
    # Programs choose some facts (a title): only the random mark ends one.
    head = mark + "#{cursor_x} #{cursor_y} #{pane_width} #{pane_height} #{pane_dead} "
    head += "#{history_size}" + "".join(mark + f"#{{{fact}}}" for fact in facts) + mark
    batch: list[str] = []
    commands: list[list[str]] = []
    size = 0
    result: dict[str, tuple[Capture, tuple[str, ...]]] = {}
    for name in wanted:
        target = session_target(name)
        capture = ["capture-pane", "-p", "-t", target, "-S", f"-{max(1, history)}"]
        if ansi:
            capture.append("-e")
        more = [["display", "-p", "-t", target, head], capture]
        grows = sum(len(a.encode("utf-8", "surrogateescape")) + 1 for c in more for a in c) + 2
        if commands and size + grows > COMMAND_BYTES:  # one tmux call would refuse it
            result.update(_screens(host, batch, commands, mark, len(facts), history))
            batch, commands, size = [], [], 0
        batch.append(name)
        commands += more
        size += grows
    result.update(_screens(host, batch, commands, mark, len(facts), history))
    return result


def _screens(
    host: Host, names: list[str], commands: list[list[str]], mark: str, facts: int, history: int
) -> dict[str, tuple[Capture, tuple[str, ...]]]:
    """What one tmux call of ``commands`` (two for each of ``names``) found."""
    if not names:
        return {}
    failed = False
    try:
        out = host.tmux(*commands)
    except ServerNotRunning:
        return {}
    except CommandFailed as exc:  # a session went away: tmux stopped there
        if "can't find" not in exc.stderr:
            raise
        out, failed = exc.stdout, True
    result: dict[str, tuple[Capture, tuple[str, ...]]] = {}
    parts = out.split(mark)[1:]
    step = facts + 2
    for name, at in zip(names, range(0, len(parts) - step + 1, step), strict=False):
        numbers, *said, text = parts[at : at + step]
        try:
            x, y, cols, rows, dead, scrolled = (int(v) for v in numbers.split())
        except ValueError:
            continue
        text = text.removeprefix("\n")
        if not history and not dead and scrolled:
            text = text.partition("\n")[2]  # one line of history was only for dead panes
        lines = tidy_rows(text, dead == 1)
        result[name] = Capture("\n".join(lines), x, y, cols, rows, dead == 0), tuple(said)
    if failed:
        rest = len(result) + 1  # after the one that failed
        result.update(_screens(host, names[rest:], commands[2 * rest :], mark, facts, history))
    return result


def tidy_rows(text: str, dead: bool) -> list[str]:
    """Captured rows without trailing blanks; for a dead pane, tmux's note last.

    To print "Pane is dead", tmux scrolls the screen up one line (so capture
    a dead pane with one line of history) and writes at the bottom row: the
    blank rows between the program's last output and the note go.
    """
    rows = [row.rstrip() for row in text.split("\n")]
    while rows and not rows[-1]:
        rows.pop()
    if dead and rows and rows[-1].startswith("Pane is dead"):
        note = rows.pop()
        while rows and not rows[-1]:
            rows.pop()
        rows.append(note)
    return rows


def wait_still(
    host: Host,
    pane_id: str,
    files: SessionFiles,
    seconds: float,
    timeout: Deadline | float,
    *,
    check: Callable[[], object],
) -> bool:
    """Wait until the pane's screen has not changed for ``seconds``.

    The screen is captured again only when the log grew, and every quarter
    second, when ``check`` runs too (it raises if the program is gone).
    False after ``timeout`` seconds.
    """
    import hashlib
    import time

    def digest() -> bytes:
        text = capture_text(host, pane_id, [])
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    size, shown, changed = files.log_size(), digest(), time.monotonic()
    periodic = Every(0.25)

    def still() -> bool:
        nonlocal size, shown, changed
        if time.monotonic() - changed >= seconds:
            return True
        now_size, due = files.log_size(), periodic.due()
        if now_size != size or due:
            size = now_size
            if due:
                check()
            now_shown = digest()
            if now_shown != shown:
                shown, changed = now_shown, time.monotonic()
        return False

    return bool(poll_until(still, timeout, interval=0.02))
