"""What tmux says about a session's pane, asked in one format and read by name.

:data:`PANE_FORMAT` asks tmux for every field of :data:`FIELDS` in one line;
:class:`Pane` reads that line back into named attributes. Add a field by
adding one row to the table.
"""

from __future__ import annotations

from ._poll import PROCESS_INTERVAL, poll_until
from ._records import Struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._host import Host

_SEPARATOR = "\x1f"


def _number(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


#: (attribute, tmux format variable, kind). Kinds: 'str'; 'int' (0 when
#: missing); 'int?' (None when missing); 'flag' ('1' is True).
FIELDS = (
    ("tmux_name", "session_name", "str"),
    ("id", "pane_id", "str"),
    ("pid", "pane_pid", "int"),
    ("dead", "pane_dead", "flag"),
    ("exit_status", "pane_dead_status", "int?"),
    ("signal", "pane_dead_signal", "int?"),
    ("cols", "pane_width", "int"),
    ("rows", "pane_height", "int"),
    ("x", "cursor_x", "int"),
    ("y", "cursor_y", "int"),
    ("alternate", "alternate_on", "flag"),
    ("created", "session_created", "int"),
    ("attached", "session_attached", "int"),
    ("piped", "pane_pipe", "flag"),
    ("cwd", "pane_current_path", "str"),
    ("state_dir", "@tmuxagent_dir", "str"),
    ("server_pid", "pid", "int"),
)
PANE_FORMAT = _SEPARATOR.join(f"#{{{variable}}}" for _, variable, _ in FIELDS)


class Pane(Struct):
    """Facts about a session's pane, parsed from one line of :data:`PANE_FORMAT`."""

    __slots__ = tuple(name for name, _, _ in FIELDS)

    tmux_name: str
    id: str
    pid: int
    dead: bool
    exit_status: int | None
    signal: int | None
    cols: int
    rows: int
    x: int
    y: int
    alternate: bool
    created: int
    attached: int
    piped: bool
    cwd: str
    state_dir: str
    server_pid: int

    def __init__(self, line: str) -> None:
        values = line.split(_SEPARATOR)
        values += [""] * (len(FIELDS) - len(values))
        for (name, _, kind), text in zip(FIELDS, values, strict=False):
            value: object
            if kind == "str":
                value = text
            elif kind == "flag":
                value = text == "1"
            elif kind == "int?":
                value = _number(text)
            else:
                value = _number(text) or 0
            setattr(self, name, value)
        if not self.dead:  # only a dead pane has an exit status
            self.exit_status = self.signal = None
        self.cols = self.cols or 80
        self.rows = self.rows or 24

    @property
    def status_pending(self) -> bool:
        """Dead, but tmux has not recorded how the program ended (yet)."""
        return self.dead and self.exit_status is None and self.signal is None


def settle_status(host: Host, pane: Pane) -> Pane:
    """Get the exit status of a pane that has just died.

    tmux 3.3a marks the pane dead when the terminal closes and records the
    status when it reaps the child; it sometimes misses the SIGCHLD and
    leaves the program a zombie with no status at all. A SIGCHLD of our
    own makes it look again.
    """
    import signal

    def look() -> Pane | None:
        nonlocal pane
        host.signal(pane.server_pid, signal.SIGCHLD)
        pane = Pane(host.tmux(["display", "-p", "-t", pane.id, PANE_FORMAT]).split("\n", 1)[0])
        return None if pane.status_pending else pane

    poll_until(look, 2.0, interval=PROCESS_INTERVAL)
    return pane
