"""Waiting: one deadline, one polling loop, and the intervals every wait uses.

tmuxagent waits on cheap facts (the size of a log, a tmux format, a process
state) that no event announces across processes, so every wait is a poll
with a deadline. They all go through :func:`poll_until`, which always looks
once more when the deadline comes, so a wait of 0 seconds still looks once.
(Work that could outlast a deadline by itself, a regex search, is stopped
there by :mod:`._search`.)
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextvars import ContextVar, Token
    from typing import TypeVar

    T = TypeVar("T")

#: Seconds a wait (``wait``, ``run``) gives its condition unless told otherwise.
DEFAULT_TIMEOUT = 30.0
#: Seconds one tmux client call may take before the server counts as stuck.
TMUX_TIMEOUT = 10.0
#: The least time a tmux call gets inside a wait whose deadline is near or
#: past (see :class:`calls_within`): a server that answers at all answers in
#: milliseconds, so only one that is stuck takes this long.
TMUX_GRACE = 0.5
#: Seconds ``start`` waits for the agent shell's first prompt.
READY_TIMEOUT = 10.0
#: Seconds to wait, after a program ended, for the last of its output to reach the log.
DRAIN_TIMEOUT = 3.0

#: Between looks at a growing log: the latency of every wait for output.
LOG_INTERVAL = 0.004
#: Between checks that the agent shell still runs, while waiting for its prompt.
ALIVE_INTERVAL = 0.2
#: The first check that a program still runs during a text wait (then 1.5x longer, up to 1 s).
ALIVE_FIRST = 0.1
#: Between looks at processes (or a server) expected to change state soon.
PROCESS_INTERVAL = 0.02
#: Seconds a match that ends on the last line, which the program may still be
#: writing (no line break after it yet), must stay the same before it counts,
#: counted from the log's last write. A program's line reached the log in
#: pieces up to 42 ms apart here (2 cores, both busy; 0.1 ms at the median),
#: so a half-written ``2432902008176640000`` could match ``^\d+$``. Unless
#: the program is seen waiting for input (``Host.input_wait``): then at
#: once when it polls its terminal (readline: a prompt such as ``>>> ``),
#: after SETTLE_READING when it reads it.
SETTLE = 0.05
#: SETTLE for a program seen in a read of its terminal, once the log is read
#: to its end. A write blocked on a full terminal looks the same (tmux then
#: reads on, and the log grows); waiting 5 ms here made a plain ``input()``
#: prompt 4 ms slower to see (bench/prompt.py) and caught no such write.
SETTLE_READING = 0.0


def check_timeout(timeout: float) -> float:
    """``timeout`` if it is a usable number of seconds, else UsageError."""
    from .errors import UsageError

    if not 0 <= timeout < 1e9:  # also refuses NaN and infinity
        raise UsageError(f"the timeout must be 0 or more seconds, not {timeout:g}")
    return timeout


class Deadline:
    """A moment in the future, on the monotonic clock."""

    __slots__ = ("end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def sleep(self, interval: float) -> None:
        """Sleep ``interval`` seconds, or until the deadline if that is sooner."""
        time.sleep(max(0.0, min(interval, self.end - time.monotonic())))


class Every:
    """Says when a periodic chore is due: ``if every.due(): ...``.

    The period grows by ``backoff`` after each chore, up to ``most``. The
    first is due after one period, or at once with ``due_now``.
    """

    __slots__ = ("_next", "_period", "_backoff", "_most")

    def __init__(
        self, period: float, *, backoff: float = 1.0, most: float = 1.0, due_now: bool = False
    ) -> None:
        self._period = period
        self._backoff = backoff
        self._most = most
        self._next = time.monotonic() + (0.0 if due_now else period)

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._period = min(self._period * self._backoff, max(self._most, self._period))
        self._next = now + self._period
        return True


class calls_within:
    """``with calls_within(deadline):`` no tmux call made meanwhile (in this
    thread) waits past ``deadline``, give or take :data:`TMUX_GRACE`: a wait
    on a stopped server ends at its own timeout, not at the tmux call's."""

    __slots__ = ("deadline", "_token")

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self._token: Token[Deadline | None] | None = None

    def __enter__(self) -> Deadline:
        global _CALL_DEADLINE  # noqa: PLW0603 - made on first use: waits only
        if _CALL_DEADLINE is None:
            from contextvars import ContextVar

            _CALL_DEADLINE = ContextVar("tmuxagent_call_deadline", default=None)
        self._token = _CALL_DEADLINE.set(self.deadline)
        return self.deadline

    def __exit__(self, *exc: object) -> None:
        if _CALL_DEADLINE is not None and self._token is not None:
            _CALL_DEADLINE.reset(self._token)


_CALL_DEADLINE: ContextVar[Deadline | None] | None = None


def call_limit(timeout: float) -> float:
    """The timeout of a tmux call: ``timeout``, or what is left of the wait
    it is made in (:class:`calls_within`) if that is less, but at least
    :data:`TMUX_GRACE`."""
    deadline = _CALL_DEADLINE.get() if _CALL_DEADLINE is not None else None
    if deadline is None:
        return timeout
    return min(timeout, max(deadline.end - time.monotonic(), TMUX_GRACE))


def poll_until(
    check: Callable[[], T | None],
    deadline: Deadline | float,
    *,
    interval: float = LOG_INTERVAL,
    backoff: float = 1.0,
    most: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T | None:
    """Call ``check`` until it returns something other than None or False.

    Returns that value, or None once ``deadline`` (a :class:`Deadline`, or
    seconds from now) has passed: ``check`` runs one last time at the
    deadline. The interval between calls grows by ``backoff`` up to ``most``.
    ``sleep`` sleeps between calls; it may end early (``_wake.Wake.sleep``:
    when the log is written).
    """
    if not isinstance(deadline, Deadline):
        deadline = Deadline(deadline)
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if deadline.passed:
            return None
        sleep(max(0.0, min(interval, deadline.end - time.monotonic())))
        interval = min(interval * backoff, max(most, interval))
