"""``Server(host=...)``: the Python API, run on a remote host.

One connection per server object (through the host's channel, see
``_ssh``) to a fork of tmuxagent's server there, which holds a real
:class:`~tmuxagent.Server` and runs each call: waits, the log and the
recorder stay on the host, and only arguments and results cross (see
``_codec``). Calls from several threads take turns. A call that is
interrupted (Ctrl-C) or loses its connection drops the connection (the
host stops what it ran) and the next call opens another.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path

from ._codec import decode, decode_error, encode
from ._input import Sent
from ._poll import DEFAULT_TIMEOUT, READY_TIMEOUT, TMUX_TIMEOUT
from ._records import Capture, SessionInfo
from ._ssh import Link, parse_host
from ._states import State
from ._wire import API, CALL, RESULT, ProtocolError, Wire, words
from .errors import HostError, TmuxAgentError, UsageError
from .server import Server, check_tmux_timeout
from .session import DEFAULT_READ_CHARS, Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    import re
    from collections.abc import Iterable, Iterator, Sequence
    from typing import Any, TextIO

    from ._records import RunResult


#: Calls that wait (for their ``timeout``, DEFAULT_TIMEOUT when not given):
#: the host's answer may take that long.
WAITING = frozenset({"wait_text", "wait_exit", "wait_state", "run", "wait_prompt", "send",
                     "paste", "keys"})  # fmt: skip


def _seconds(value: Any) -> float | None:
    """A timeout as a number of seconds (None: none, or one the host refuses)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds < 1e7 else None


def _lost(exc: BaseException) -> bool:
    """Whether a call that raised ``exc`` leaves its connection out of step:
    all but the host's own errors (WaitTimeout...). Ctrl-C, a bug: its answer
    may still come (the host stops the call when we leave)."""
    return isinstance(exc, HostError) or not isinstance(exc, TmuxAgentError)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no value")  # NaN, Infinity


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise ValueError(f"{text} is no value")
    return value


class RemoteServer(Server):
    """A tmuxagent server on a remote host (made by ``Server(host=...)``)."""

    def __init__(
        self,
        socket: str | os.PathLike[str] | None = None,
        *,
        host: str | None = None,
        timeout: float = TMUX_TIMEOUT,
        log_limit: int | str | None = None,
    ) -> None:
        if host is None:
            raise UsageError("RemoteServer needs a host")
        check_tmux_timeout(timeout)
        self.spec = parse_host(host)
        self._timeout = timeout
        self._options = {"socket": None if socket is None else str(socket),
                         "timeout": timeout, "log_limit": log_limit}  # fmt: skip
        self._wire: Wire | None = None
        self._about: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Server({self._options['socket']!r}, host={self.spec.text!r})"

    # -- the connection ----------------------------------------------------------

    def _connect(self) -> Wire:
        from ._remote import sent

        link = Link(self.spec)
        wire = sent(link, [(API, words(link.code, json.dumps(self._options)))])
        try:
            self._about = self._checked(self._answer(wire, self._within("", {}))[1], dict)
        except BaseException:
            wire.sock.close()
            raise
        return wire

    def _send(self, wire: Wire, name: str | None, method: str, args: Any, kwargs: Any) -> None:
        request = json.dumps([name, method, encode(list(args)), encode(kwargs)]).encode()
        try:
            wire.send(CALL, request)
        except OSError as exc:
            raise HostError(f"lost the connection to {self.spec}: {exc.strerror or exc}") from None

    def _answer(self, wire: Wire, within: float | None) -> tuple[str, Any]:
        """The host's next answer: ("value" or "item", what it is), or the
        error it raised; HostError for an answer lost, bad or not in time."""
        try:
            frame = wire.read(None if within is None else time.monotonic() + within)
        except TimeoutError:  # the socket's
            raise HostError(f"{self.spec}: no answer in {within:g} s; is the host stalled?"
                            ) from None  # fmt: skip
        except (OSError, ProtocolError):
            frame = None
        if frame is None or frame[0] != RESULT:
            raise HostError(f"lost the connection to {self.spec}")
        try:  # a host's answer is data; what is not tmuxagent's is the host's fault
            answer = json.loads(frame[1], parse_constant=_no_constant, parse_float=_finite)
            if "error" in answer:
                error = decode_error(answer["error"], self.spec.text)
            else:
                kind = "item" if "item" in answer else "value"
                return kind, decode(answer.get(kind))
        except Exception as exc:
            raise HostError(f"{self.spec}: a bad answer ({type(exc).__name__})") from None
        raise error

    def _within(self, method: str, kwargs: dict[str, Any]) -> float | None:
        """How long the host may take to answer a call (None: a wait with no
        timeout): its tmux calls' time, and the wait's."""
        slack = 2 * self._timeout + 5
        if method == "wait_idle" and kwargs.get("timeout") is None:  # as long as it writes
            return None
        waits = kwargs.get("timeout", DEFAULT_TIMEOUT)
        if method == "start":  # it waits for the program to start, and for wait=
            slack += _seconds(kwargs.get("ready_timeout", READY_TIMEOUT)) or 0.0
            if kwargs.get("wait") is None and kwargs.get("wait_idle") is None:
                return slack
        elif method not in WAITING and "timeout" not in kwargs:
            return slack
        seconds = _seconds(waits)
        return None if seconds is None else slack + seconds

    def _exchange(self, wire: Wire, name: str | None, method: str, args: Any, kwargs: Any) -> Any:
        """One call on ``wire`` (of the session ``name``, or the server): its value."""
        within = self._within(method, kwargs)  # (before the call is on its way)
        self._send(wire, name, method, args, kwargs)
        kind, value = self._answer(wire, within)
        if kind != "value":
            raise HostError(f"{self.spec}: a bad answer (an item)")
        return value

    def _call(self, name: str | None, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``method`` on the host (of the session ``name``, or the server)."""
        with self._lock:
            try:
                if self._wire is None:
                    self._wire = self._connect()
                return self._exchange(self._wire, name, method, args, kwargs)
            except BaseException as exc:
                if _lost(exc):
                    self._drop()
                raise

    def _checked(self, value: Any, kind: type | tuple[type, ...], item: type | None = None) -> Any:
        """``value`` if it is a ``kind`` (of ``item``s: a dict's values, by
        str keys), else HostError: a host's answer of another shape."""
        fits = isinstance(value, kind)
        if fits and item is not None:
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            fits = all(isinstance(v, item) and (item is not int or type(v) is not bool)
                       and (kind is not dict or isinstance(k, str)) for k, v in pairs)  # fmt: skip
        if not fits:
            raise HostError(f"{self.spec}: a bad answer (a {type(value).__name__})")
        return value

    def _stream(self, method: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """The items ``method`` yields on the host, over a connection of their
        own (closing the iterator stops it there)."""
        wire = self._connect()
        try:
            self._send(wire, None, method, args, kwargs)
            while True:
                kind, item = self._answer(wire, self._within(method, kwargs))
                if kind != "item":
                    return
                yield self._checked(item, dict)
        finally:
            wire.sock.close()

    def _drop(self) -> None:
        if self._wire is not None:
            self._wire.sock.close()
            self._wire = None
        self._about = {}

    def close(self) -> None:
        """Close the connection (the next call opens another)."""
        with self._lock:
            self._drop()

    # -- the server's API --------------------------------------------------------

    def _info(self, key: str) -> Any:
        if not self._about:
            self._call(None, "is_running")
        if key not in self._about:
            raise HostError(f"{self.spec}: a bad answer (no {key})")
        return self._about[key]

    @property
    def socket_path(self) -> Path:
        return Path(self._info("socket_path"))

    @property
    def state_root(self) -> Path:
        return Path(self._info("state_root"))

    @property
    def log_limit(self) -> int:
        return int(self._checked(self._info("log_limit"), int))

    @log_limit.setter
    def log_limit(self, value: int | str) -> None:  # for the sessions started next
        with self._lock:
            self._options["log_limit"] = value
            self._drop()

    @property
    def libtmux(self) -> Any:
        raise UsageError("libtmux cannot reach a remote host's tmux; use the methods")

    def session(self, name: str) -> RemoteSession:
        return RemoteSession(self, name)

    def is_running(self) -> bool:
        return bool(self._call(None, "is_running"))

    def start(
        self, name: str, command: Sequence[str] | None = None, **options: Any
    ) -> RemoteSession:
        made = self._checked(self._call(None, "start", name, None if command is None
                                        else list(command), **options), dict)  # fmt: skip
        session = RemoteSession(self, self._checked(made.get("name"), str))
        session.started = self._checked(made.get("started"), (Sent, type(None)))
        return session

    def sessions(self) -> list[SessionInfo]:
        return self._checked(self._call(None, "sessions"), list, SessionInfo)  # type: ignore[no-any-return]

    def states(self, sessions: Iterable[SessionInfo] | None = None) -> dict[str, State]:
        if sessions is None:
            return self._checked(self._call(None, "states", None), dict, State)  # type: ignore[no-any-return]
        return self._by_name("states", list(sessions), State)

    def _by_name(self, method: str, infos: list[SessionInfo], kind: type) -> dict[str, Any]:
        """``method`` of sessions the host listed last (by their names: a
        dashboard asks for sizes ten times a second, whole records would cost
        much more); of others (listed on another connection), by their records."""
        answer = self._checked(self._call(None, "by_name", method, [i.name for i in infos]), list)
        if len(answer) != 2:
            raise HostError(f"{self.spec}: a bad answer (by_name)")
        found = self._checked(answer[0], dict, kind)
        if missing := set(self._checked(answer[1], list, str)):
            more = self._call(None, method, [i for i in infos if i.name in missing])
            found.update(self._checked(more, dict, kind))
        return found  # type: ignore[no-any-return]

    def events(
        self, names: Iterable[str] = (), *, timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        return self._stream("events", list(names), timeout=timeout)

    def output_sizes(self, sessions: Iterable[SessionInfo]) -> dict[str, int]:
        return self._by_name("output_sizes", list(sessions), int)

    def screens(
        self, names: Iterable[str], *, ansi: bool = False, history: int = 0
    ) -> dict[str, Capture]:
        found = self._call(None, "screens", list(names), ansi=ansi, history=history)
        return self._checked(found, dict, Capture)  # type: ignore[no-any-return]

    def kill_all(self) -> int:
        return int(self._checked(self._call(None, "kill_all"), int))

    def attach_command(self, name: str, *, read_only: bool = False) -> list[str]:
        return self.session(name).attach_command(read_only=read_only)


class RemoteSession(Session):
    """A session on a remote host: each method runs there."""

    server: RemoteServer

    def __init__(self, server: RemoteServer, name: str) -> None:
        from ._names import validate_name

        self.server = server
        self.name = validate_name(name)
        self.started: Sent | None = None

    def __repr__(self) -> str:
        return f"Session({self.name!r}, host={self.server.spec.text!r})"

    def _on_host(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.server._call(self.name, method, *args, **kwargs)

    @property
    def files(self) -> Any:
        raise UsageError("a remote session's files are on its host; use log_path, read()")

    @property
    def log_path(self) -> Path:
        """The log's path on the host."""
        return Path(self._on_host("log_path"))

    def send(self, text: str, **options: Any) -> Sent:
        return self._sent(self._on_host("send", text, **options))

    def paste(self, text: str, **options: Any) -> Sent:
        return self._sent(self._on_host("paste", text, **options))

    def keys(self, *keys: str, **options: Any) -> Sent:
        return self._sent(self._on_host("keys", *keys, **options))

    @staticmethod
    def _sent(value: Any) -> Sent:
        return value  # type: ignore[no-any-return]

    def capture(self, **options: Any) -> Capture:
        return self._on_host("capture", **options)  # type: ignore[no-any-return]

    def read(self, **options: Any) -> str:
        return str(self._on_host("read", **options))

    def read_stream(self, *, max_chars: int = DEFAULT_READ_CHARS) -> Any:
        return _ReadStream(self, max_chars)

    def transcript(self, **options: Any) -> str:
        return str(self._on_host("transcript", **options))

    def wait_text(self, pattern: str | re.Pattern[str], **options: Any) -> Any:
        return self._on_host("wait_text", pattern, **options)

    def wait_idle(self, seconds: float, **options: Any) -> None:
        self._on_host("wait_idle", seconds, **options)

    def wait_exit(self, **options: Any) -> int:
        return int(self.server._checked(self._on_host("wait_exit", **options), int))

    def state(self) -> State:
        return self._on_host("state")  # type: ignore[no-any-return]

    def wait_state(self, *states: str, **options: Any) -> State:
        return self._on_host("wait_state", *states, **options)  # type: ignore[no-any-return]

    def run(self, command: str, **options: Any) -> RunResult:
        return self._on_host("run", command, **options)  # type: ignore[no-any-return]

    def wait_prompt(self, **options: Any) -> RunResult:
        return self._on_host("wait_prompt", **options)  # type: ignore[no-any-return]

    def start_recording(self) -> None:
        self._on_host("start_recording")

    def stop_recording(self) -> None:
        self._on_host("stop_recording")

    @property
    def recorded(self) -> bool:
        return bool(self._on_host("recorded"))

    def write_cast(self, out: TextIO) -> int:
        text = str(self._on_host("cast_text"))
        out.write(text)
        return max(0, text.count("\n") - 1)

    def signal(self, signum: int) -> None:
        self._on_host("signal", int(signum))

    def resize(self, cols: int, rows: int) -> None:
        self._on_host("resize", cols, rows)

    def status(self) -> SessionInfo:
        return self._on_host("status")  # type: ignore[no-any-return]

    def kill(self) -> None:
        self._on_host("kill")

    def attach_command(self, *, read_only: bool = False) -> list[str]:
        """The ssh command that attaches a terminal to it on its host."""
        import shlex

        remote = shlex.join(self._on_host("attach_command", read_only=read_only))
        return Link(self.server.spec).argv("-t", command=remote, batch=False)


class _ReadStream:
    """:meth:`Session.read_stream` on a host, over a connection of its own
    (the host holds the session's read lock until it closes)."""

    def __init__(self, session: RemoteSession, max_chars: int) -> None:
        self._session, self._max_chars = session, max_chars
        self._wire: Wire | None = None
        self._pieces: list[str] = []

    def _on_host(self, method: str, *args: Any) -> Any:
        wire = self._wire
        assert wire is not None
        try:
            return self._session.server._exchange(wire, self._session.name, method, args, {})
        except BaseException as exc:
            if _lost(exc):
                wire.sock.close()
            raise

    def __enter__(self) -> _ReadStream:
        self._wire = self._session.server._connect()
        try:
            pieces = self._on_host("read_open", self._max_chars)
            self._pieces = self._session.server._checked(pieces, list, str)
        except BaseException:
            self._wire.sock.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._wire is not None
        try:
            self._on_host("read_close")
        except TmuxAgentError:
            pass  # the connection's end releases the lock as well
        finally:
            self._wire.sock.close()

    def __iter__(self) -> Iterator[str]:
        return iter(self._pieces)

    def __len__(self) -> int:
        return len(self._pieces)

    def delivered(self, count: int) -> None:
        """The first ``count`` pieces reached the reader: the cursor moves past them."""
        self._on_host("read_delivered", int(count))
