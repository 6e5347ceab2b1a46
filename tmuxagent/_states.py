"""What a session's program is doing: working, ready, asking, idle or exited.

Told from what a person would look at (:class:`Look`): the screen's rows,
the cursor's row, the terminal's title, how long ago the program last
wrote, and whether it waits for input. Profiles (``_profiles.py``: data
files of rules, one per kind of program) say what each of those means; the
first rule that holds decides. Nothing is asked of the program.

``working``
    busy: a spinner, an agent CLI's "esc to interrupt", output changing.
``ready``
    waiting for the next input at a prompt or input box; nothing asked.
``asking``
    blocked on a question that needs an answer: an approval dialog, y/n,
    a password, "Press Enter", a pager at its end, a selection menu.
``idle``
    still, and no prompt recognised.
``exited``
    the program has ended.
"""

from __future__ import annotations

import os
import time

from ._records import Struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._host import Host
    from ._profiles import Profile, Rule
    from ._records import SessionInfo
    from .session import Session

STATES = ("working", "ready", "asking", "idle", "exited")
#: A program that wrote within this many seconds, and that no rule
#: describes, is working; after that it is idle.
ACTIVE = 1.0
#: Bytes at the end of the log searched for the last progress report (OSC 9;4).
PROGRESS_TAIL = 16384


class Look(Struct):
    """What detection sees of a session at one moment."""

    __slots__ = (
        "rows", "cursor_x", "cursor_y", "title", "alternate", "alive", "exit_status",
        "signal", "quiet", "program", "current", "reading", "echo", "progress",
    )  # fmt: skip

    def __init__(
        self,
        rows: list[str],
        *,
        cursor_x: int = 0,
        cursor_y: int = 0,
        title: str = "",
        alternate: bool = False,
        alive: bool = True,
        exit_status: int | None = None,
        signal: int | None = None,
        quiet: float = 0.0,
        program: str = "",
        current: str = "",
        reading: bool | None = None,
        echo: bool | None = None,
        progress: bool | None = None,
    ) -> None:
        self.rows = rows  # the screen's rows, as shown (no trailing spaces)
        self.cursor_x = cursor_x
        self.cursor_y = cursor_y
        self.title = title  # the terminal's title, as the program set it
        self.alternate = alternate  # a full-screen program's own screen
        self.alive = alive
        self.exit_status = exit_status
        self.signal = signal
        self.quiet = quiet  # seconds since the program last wrote
        self.program = program  # the session's command (its name, no directory)
        self.current = current  # the terminal's foreground process (tmux's name for it)
        self.reading = reading  # it sleeps waiting for input (None: cannot tell)
        self.echo = echo  # the terminal echoes typing (None: cannot tell)
        self.progress = progress  # its last OSC 9;4 says it is busy (None: it sent none)

    @property
    def running(self) -> bool:
        """Whether the terminal's foreground process is another program than
        the session's (a shell that runs a command)."""
        return bool(self.current and self.program) and self.current != self.program


class State(Struct):
    """A session's state, and why: which profile and rule, on which rows."""

    __slots__ = ("state", "detail", "profile", "rule", "rows")

    def __init__(
        self, state: str, detail: str = "", profile: str = "", rule: str = "",
        rows: tuple[int, ...] = (),
    ) -> None:  # fmt: skip
        self.state = state
        self.detail = detail  # the question asked, a prompt, in short
        self.profile = profile  # the profile whose rule decided ('' : none did)
        self.rule = rule  # that rule, as its file says it
        self.rows = rows  # the screen rows the rule matched (0 is the top)


def detect(look: Look, profiles: list[Profile]) -> State:
    """The state ``look`` shows: ``exited`` if the program ended, else the
    first rule that holds, of the profiles that apply, highest priority
    first; else ``working`` if it wrote within :data:`ACTIVE` seconds or
    does something else than wait for input (a computation, a sleep, the
    network), else ``idle``."""
    if not look.alive:
        from .errors import signal_name

        if look.signal:
            return State("exited", f"killed ({signal_name(look.signal)})")
        return State("exited", f"exit status {look.exit_status}")
    from ._profiles import named

    own = named(look, profiles)
    for profile in profiles:
        if profile.why_applies(look, own) is None:
            continue
        for rule in profile.rules:
            found = rule.holds(look)
            if found is not None:
                detail, rows = found
                return State(rule.state, detail, profile.name, rule.describe(), rows)
    if look.quiet < ACTIVE:
        return State("working", "output in the last second")
    if look.reading is False:  # it does something else than wait for typing
        return State("working", f"{look.current or look.program or 'it'} runs, not reading input")
    return State("idle", f"no output for {int(look.quiet)}s")


def considered(look: Look, profiles: list[Profile]) -> list[tuple[Profile, Rule | None, str]]:
    """For ``explain``: each profile in turn, whether it applies, and each
    rule of those that do, up to the one that decides: (profile, rule, what
    came of it)."""
    from ._profiles import named

    own = named(look, profiles)
    out: list[tuple[Profile, Rule | None, str]] = []
    for profile in profiles:
        why = profile.why_applies(look, own)
        if why is None:
            out.append((profile, None, "does not apply"))
            continue
        out.append((profile, None, f"applies: {why}"))
        for rule in profile.rules:
            found = rule.holds(look)
            if found is not None:
                out.append((profile, rule, f"holds: {found[0]!r} on rows {list(found[1])}"))
                return out
            out.append((profile, rule, rule.missed(look)))
    return out


def looks(host: Host, infos: list[SessionInfo]) -> dict[str, Look]:
    """What detection sees of each session of ``infos`` (as ``sessions()``
    or ``status()`` gave them), in one tmux call; sessions gone meanwhile
    are left out."""
    import time

    from ._screen import screens_and_facts

    facts = ("alternate_on", "pane_current_command", "pane_tty", "pane_title")
    shown = screens_and_facts(host, [i.name for i in infos], facts=facts)
    now = time.time()
    out = {}
    for info in infos:
        if info.name not in shown:
            continue
        capture, (alternate, current, tty, title) = shown[info.name]
        # When it last wrote, now (``infos`` may be a moment old).
        files = host.files(os.path.dirname(info.log)) if info.log else None
        size, last = files.log_stat() if files else (0, 0.0)
        last = last or info.last_output
        progress = _progress(files.read_log(max(0, size - PROGRESS_TAIL), size)) if files else None
        reading = echo = None
        if info.alive:
            reading = host.input_wait(info.pid) is not None
            echo = host.echo_on(tty) if tty else None
        out[info.name] = Look(
            capture.text.split("\n"), cursor_x=capture.cursor_x, cursor_y=capture.cursor_y,
            title=title.strip(), alternate=alternate == "1", alive=info.alive,
            exit_status=info.exit_status, signal=info.signal,
            quiet=max(0.0, now - last), program=program_name(info.command),
            current=current, reading=reading, echo=echo, progress=progress,
        )  # fmt: skip
    return out


def _progress(tail: bytes) -> bool | None:
    """What the last OSC 9;4 (a terminal's progress bar: ``ESC ] 9 ; 4 ; STATE
    [; PERCENT] BEL``) in ``tail`` says: True while it shows progress (state
    1, or 3: busy without a percentage), False once cleared or paused, None
    when there is none."""
    at = tail.rfind(b"\x1b]9;4;")
    if at < 0:
        return None
    return tail[at + 6 : at + 7] in (b"1", b"3")


def program_name(command: str) -> str:
    """The program's name (no directory) of a session's command line."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    return os.path.basename(words[0]) if words else ""


def states(host: Host, infos: list[SessionInfo]) -> dict[str, State]:
    """The state of each session of ``infos``, in one tmux call (sessions
    gone meanwhile are left out)."""
    from ._profiles import load

    profiles = load()
    return {name: detect(look, profiles) for name, look in looks(host, infos).items()}


def parse_states(text: str) -> set[str]:
    """``"ready,asking"`` to the states it names; UsageError for others."""
    from .errors import UsageError, shown

    wanted = {s.strip() for s in text.split(",") if s.strip()}
    wrong = sorted(wanted - set(STATES))
    if wrong or not wanted:
        raise UsageError(
            f"unknown state {shown(wrong[0] if wrong else text)}; states: {', '.join(STATES)}"
        )
    return wanted


def wait_state(session: Session, wanted: set[str], timeout: float) -> State:
    """Wait until the session is in one of ``wanted`` states; returns it.

    Looks again when the log grows, and at least ten times a second (a
    program that goes quiet changes state without writing). WaitTimeout at
    the deadline; ProgramExited if the program ends and ``exited`` is not
    wanted.
    """
    from ._poll import Deadline, calls_within, check_timeout
    from ._profiles import load
    from ._wake import Wake
    from .errors import ProgramExited, WaitTimeout

    check_timeout(timeout)
    profiles = load()
    with calls_within(Deadline(timeout)) as deadline:
        wake = Wake(session.files.log, later=session._host.one_call)
        while True:
            info = session.status()
            found = looks(session._host, [info]).get(session.name)
            state = detect(found, profiles) if found else State("exited", "gone")
            if state.state in wanted:
                return state
            if state.state == "exited":
                raise ProgramExited(session.name, info.exit_status, info.signal)
            left = deadline.end - time.monotonic()
            if left <= 0:
                from ._waits import screen_tail

                what = f"state {' or '.join(sorted(wanted))} (it is {state.state}"
                what += f": {state.detail})" if state.detail else ")"
                raise WaitTimeout(what, timeout, screen_tail(session))
            wake.sleep(min(0.1, left))
