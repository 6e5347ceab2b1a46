"""The waits of a :class:`~tmuxagent.Session` (for text, a still screen, the
program's end, the agent shell's prompt), followed through to their deadline.

Session's methods of the same names say what each promises and call these;
what a wait sees is decided in ``_output`` (``_shell`` for the prompt). Apart
from session.py so that the CLI's verbs that do not wait never load it.
"""

from __future__ import annotations

from . import _screen
from ._poll import (
    ALIVE_FIRST,
    ALIVE_INTERVAL,
    DEFAULT_TIMEOUT,
    LOG_INTERVAL,
    Deadline,
    Every,
    calls_within,
    check_timeout,
    poll_until,
)
from .errors import (
    ProgramExited,
    SessionBusy,
    SessionError,
    TmuxError,
    UsageError,
    WaitTimeout,
    shell_quote,
    shown,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable
    from typing import TypeVar

    from ._files import Mark, SessionFiles
    from ._input import Sent
    from ._output import OutputWatch
    from ._pane import Pane
    from ._records import RunResult
    from .session import Session

    T = TypeVar("T")
    W = TypeVar("W", bound=OutputWatch)


def screen_tail(session: Session, count: int = 15) -> str:
    """The last lines of the screen, for a timeout's message: a short look
    (a server that does not answer at once leaves it empty)."""
    try:
        with calls_within(Deadline(0)):
            return "\n".join(session.capture().lines[-count:])
    except (SessionError, TmuxError):
        return ""


# -- waiting ---------------------------------------------------------------


def _follow(
    session: Session,
    pane: Pane,
    files: SessionFiles,
    watch_type: Callable[[SessionFiles, Mark, int, int], W],
    mark: Mark,
    deadline: Deadline,
    until: Callable[[W], T | None],
    what: str,
    alive: Every,
) -> tuple[T, W]:
    """Follow the output from ``mark`` until ``until(watch)`` gives a result.

    ``until`` runs whenever output arrives (and on every look while the
    watch has a match to confirm); whether the program still runs is
    checked when ``alive`` is due. Returns the result and the (closed)
    watch. Raises ProgramExited when the program ends without it (after
    all its output is in), WaitTimeout at ``deadline`` (``what`` says what
    was awaited).
    """
    from ._wake import Wake

    wake = Wake(files.log, later=session._host.one_call)
    with watch_type(files, mark, pane.cols, pane.rows) as watch:
        fresh = True
        watch.final = pane.dead  # then the caller has all its output in the log
        watch.input_wait = lambda: session._host.input_wait(pane.pid)

        def step() -> T | None:
            nonlocal pane, fresh
            if watch.poll() or fresh or watch.pending:
                fresh = False
                found = until(watch)
                if found is not None:
                    return found
            if pane.dead:
                raise ProgramExited(session.name, pane.exit_status, pane.signal)
            if alive.due():
                pane = session._at.pane(again=True)
                if pane.dead:
                    session._host.complete_log(files)
                    watch.final = True  # nothing more will come: a last look decides
                    fresh = True
            return None

        result = poll_until(step, deadline, interval=LOG_INTERVAL, sleep=wake.sleep)
    if result is None:
        raise WaitTimeout(what, deadline.seconds, screen_tail(session))
    return result, watch


def wait_text(
    session: Session, pattern: str | re.Pattern[str], *, timeout: float = DEFAULT_TIMEOUT
) -> re.Match[str]:
    from ._output import compile_pattern

    check_timeout(timeout)
    regex = compile_pattern(pattern)
    with calls_within(Deadline(timeout)) as deadline:
        return _text(session, regex, deadline)[0]


def _text(
    session: Session, regex: re.Pattern[str], deadline: Deadline,
    found: tuple[Pane, SessionFiles] | None = None,
) -> tuple[re.Match[str], OutputWatch]:  # fmt: skip
    """The first match of ``regex`` after the last input (and the last match
    since), and the watch that found it; ``found``: the pane and files, just
    looked up by the caller (a step)."""
    from ._output import OutputWatch

    pane, files = found or session._at.complete()
    mark = files.mark()
    resume = files.matched(mark)

    def watch(files: SessionFiles, mark: Mark, cols: int, rows: int) -> OutputWatch:
        return OutputWatch(files, mark, cols, rows, resume)

    match, done = _follow(
        session,
        pane,
        files,
        watch,
        mark,
        deadline,
        lambda watch: watch.search(regex, deadline),
        f"text matching /{regex.pattern}/",
        Every(ALIVE_FIRST, backoff=1.5),
    )
    files.note_match(mark, *done.matched_at)
    return match, done


def wait_idle(session: Session, seconds: float, *, timeout: float | None = None) -> None:
    if not 0 < seconds < 1e9:  # also refuses nan and inf
        raise UsageError(f"the idle period must be a positive number of seconds, not {seconds}")
    limit = seconds + DEFAULT_TIMEOUT if timeout is None else check_timeout(timeout)
    if limit < seconds:
        raise UsageError(f"timeout ({limit:g}s) is shorter than the idle period ({seconds:g}s)")
    with calls_within(Deadline(limit)) as deadline:
        _still(session, seconds, deadline)


def _still(session: Session, seconds: float, deadline: Deadline) -> None:
    pane, files = session._at.live()

    def check() -> object:
        return session._at.live(again=True)

    if not _screen.wait_still(session._host, pane.id, files, seconds, deadline, check=check):
        what = f"the screen to stay unchanged for {seconds:g}s"
        raise WaitTimeout(what, deadline.seconds, screen_tail(session))


def wait_exit(session: Session, *, timeout: float = DEFAULT_TIMEOUT) -> int:
    check_timeout(timeout)

    def ended(again: bool = True) -> tuple[Pane, SessionFiles] | None:
        found = session._at.lookup(again=again)
        return found if found[0].dead else None

    with calls_within(Deadline(timeout)) as deadline:
        found = ended(again=False) or poll_until(
            ended, deadline, interval=0.01, backoff=1.5, most=0.25
        )
        if found is None:
            raise WaitTimeout("the program to exit", timeout, screen_tail(session))
        pane, files = found
        session._host.complete_log(files)
    if pane.signal:
        return -pane.signal
    return pane.exit_status if pane.exit_status is not None else -1


# -- the agent shell -------------------------------------------------------


def wait_first_prompt(
    session: Session, files: SessionFiles, timeout: float, token: str | None
) -> None:
    """Wait for a new agent shell's first prompt (``start`` does)."""
    from ._shell import has_prompt

    alive = Every(ALIVE_INTERVAL)

    def ready() -> bool:
        if has_prompt(files, 0, token):
            return True
        if alive.due():  # ProgramExited if the shell ended, or the server stopped
            session._at.live(again=True)
        return False

    with calls_within(Deadline(timeout)) as deadline:
        if not poll_until(ready, deadline, interval=LOG_INTERVAL):
            raise WaitTimeout("the agent shell's first prompt", timeout, screen_tail(session))


def _shell(session: Session, verb: str, files: SessionFiles) -> str | None:
    """The token of the agent shell's prompt marker (None: an older session's)."""
    from ._shell import session_token

    meta = session._at.meta(files)
    if not meta.get("shell"):
        raise UsageError(
            f"session {session.name!r} does not run the tmuxagent shell, so '{verb}' "
            "cannot tell when a command ends; use send + wait, or start a "
            "session without COMMAND"
        )
    return session_token(meta)


def run(session: Session, command: str, *, timeout: float = DEFAULT_TIMEOUT) -> RunResult:
    from ._input import held_interrupt
    from ._shell import has_prompt

    check_timeout(timeout)
    if not command.strip():
        raise UsageError("run needs a command")
    with calls_within(Deadline(timeout)) as deadline:
        pane, files = session._at.live()
        token = _shell(session, "run", files)
        if not has_prompt(files, files.mark().offset, token):
            raise SessionBusy(session.name)
        pane, files = _reading(session, pane, files)
        # As a paste, so that readline takes it literally: a tab in the command
        # would otherwise complete file names, and lines would run one by one.
        # A Ctrl-C meanwhile waits for the Enter: else the shell would be left
        # with the command typed and not run, and every later run refused.
        with held_interrupt():
            mark, _ = session._type_input(
                command.strip("\n"), bracketed=True, enter=True, live=(pane, files),
                at_prompt=True,
            )  # fmt: skip
        what = f"{shown(command)} to finish"
        return _await_prompt(session, pane, files, mark, deadline, what, token)


#: Seconds ``run`` waits for readline to take the terminal after the prompt
#: marker (then it types anyway: a host that cannot tell).
READLINE_WAIT = 1.0


def _reading(session: Session, pane: Pane, files: SessionFiles) -> tuple[Pane, SessionFiles]:
    """The pane and files once the agent shell reads at its prompt.

    The marker comes first (PROMPT_COMMAND); bash draws the prompt after it
    and then readline takes the terminal. Text typed before that is echoed
    by the terminal itself (the paste's brackets as ``^[[200~``) and the
    prompt drawn after the input's mark lands in the output. Looked up
    again after a wait: the cursor has moved with the prompt.
    """
    host = session._host
    if host.input_wait(pane.pid) == "poll":  # the usual case: at once
        return pane, files
    poll_until(lambda: host.input_wait(pane.pid) == "poll", READLINE_WAIT, interval=0.001)
    return session._at.live()


def wait_prompt(session: Session, *, timeout: float = DEFAULT_TIMEOUT) -> RunResult:
    check_timeout(timeout)
    with calls_within(Deadline(timeout)) as deadline:
        pane, files = session._at.complete()
        token = _shell(session, "wait --prompt", files)
        mark = files.mark()
        return _await_prompt(session, pane, files, mark, deadline, "the shell prompt", token)


def _await_prompt(
    session: Session, pane: Pane, files: SessionFiles, mark: Mark, deadline: Deadline,
    what: str, token: str | None,
) -> RunResult:  # fmt: skip
    """Follow the output from ``mark`` to the first prompt marker with ``token``;
    the next text wait starts there."""
    from ._shell import ShellWatch

    name = shell_quote(session.name)
    what += (
        f" (it keeps running: 'tmuxagent wait {name} --prompt' "
        f"waits for it, 'tmuxagent keys {name} C-c' interrupts it)"
    )
    alive = Every(ALIVE_INTERVAL)

    def watch(files: SessionFiles, mark: Mark, cols: int, rows: int) -> ShellWatch:
        return ShellWatch(files, mark, cols, rows, token)

    result, done = _follow(
        session, pane, files, watch, mark, deadline, ShellWatch.result, what, alive
    )
    files.note_match(mark, done.offset, *done.ends[0])
    return result


# -- steps: input, then a wait, in one call ---------------------------------------------


class StepWait:
    """What a step (``send``, ``paste``, ``keys`` with a wait) waits for once
    its input is in: checked before anything is typed, so that a bad regex
    or timeout types nothing."""

    def __init__(
        self,
        wait: str | re.Pattern[str] | None,
        idle: float | None,
        timeout: float,
        prompt_of: Session | None = None,
    ) -> None:
        """``prompt_of``: the session whose agent shell's prompt is awaited."""
        from ._output import compile_pattern

        prompt = prompt_of is not None
        if (wait is not None) + (idle is not None) + prompt > 1:
            raise UsageError("wait for one thing: text (--wait), a still screen (--wait-idle) "
                             "or the agent shell's prompt (--wait-prompt)")  # fmt: skip
        self.timeout = check_timeout(timeout)
        self.regex = None if wait is None else compile_pattern(wait)
        if idle is not None and not 0 < idle <= timeout:
            raise UsageError(
                f"the idle period must be more than 0 seconds and at most the timeout "
                f"({timeout:g}s), not {idle:g}"
            )
        self.idle = idle
        self.token = (
            None if prompt_of is None else _shell(prompt_of, "--wait-prompt", prompt_of.files)
        )

    def finish(
        self, session: Session, mark: Mark, sent: Sent,
        found: tuple[Pane, SessionFiles] | None = None,
    ) -> Sent:  # fmt: skip
        """``sent``, with what the program printed after the input (``mark``),
        once it shows what was awaited: up to the line of the match for text;
        all of it for a still screen; the command's output and exit code for
        the prompt."""
        with calls_within(Deadline(self.timeout)) as deadline:
            if self.regex is not None:
                sent.match, watch = _text(session, self.regex, deadline, found)
                sent.output = _output(session, watch, watch.matched_at[1])
            elif self.idle is not None:
                _still(session, self.idle, deadline)
                sent.output = output_since(session, mark)
            else:
                pane, files = session._at.complete()
                result = _await_prompt(
                    session, pane, files, mark, deadline, "the shell prompt", self.token
                )
                sent.output, sent.exit_code = result.output, result.exit_code
        return sent


def output_since(session: Session, mark: Mark) -> str:
    """What the program printed since the input that ``mark`` noted (without its echo)."""
    from ._output import OutputWatch

    pane, files = session._at.complete()
    with OutputWatch(files, mark, pane.cols, pane.rows) as watch:
        while watch.poll():
            pass
        return _output(session, watch, None)


def _output(session: Session, watch: OutputWatch, upto: int | None) -> str:
    """The watch's output (up to line ``upto``), at most as long as ``read``'s."""
    from ._read import cut_middle
    from .session import DEFAULT_READ_CHARS

    text = watch.output(upto)
    if len(text) <= DEFAULT_READ_CHARS:
        return text
    return cut_middle(text, DEFAULT_READ_CHARS, watch.files, watch.start, watch.offset)
