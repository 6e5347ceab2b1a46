"""The host's side of ``Server(host=...)``: the library's calls, run here.

A connection that opens with API (instead of a CLI verb's REQUEST) makes a
:class:`~tmuxagent.Server` in the fork that took it and answers CALL frames
(JSON: the session's name or null, the method, its arguments) with RESULT
frames (the value, or the error), until the client closes. Only the
methods named here can be called.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import threading

from ._codec import decode, encode, encode_error
from ._wire import CALL, RESULT, ProtocolError, Wire
from .errors import TmuxAgentError, TmuxError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .server import Server

SERVER_CALLS = frozenset({
    "sessions", "states", "output_sizes", "screens", "kill_all", "is_running", "start",
    "by_name", "events",
})  # fmt: skip
SESSION_CALLS = frozenset({
    "send", "paste", "keys", "capture", "read", "transcript", "wait_text", "wait_idle",
    "wait_exit", "state", "wait_state", "run", "wait_prompt", "start_recording",
    "stop_recording", "recorded", "signal", "resize", "status", "kill", "attach_command",
    "log_path", "cast_text", "read_open", "read_delivered", "read_close",
})  # fmt: skip
#: Calls whose answer is a series of items (RESULT frames with "item"),
#: then {"value": null}.
STREAM_CALLS = frozenset({"events"})


def serve_api(wire: Wire, options: dict[str, Any]) -> None:
    from .server import Server

    try:
        server = Server(options.get("socket"), timeout=float(options.get("timeout", 10.0)),
                        log_limit=options.get("log_limit"))  # fmt: skip
        about = {"socket_path": str(server.socket_path), "state_root": str(server.state_root),
                 "log_limit": server.log_limit}  # fmt: skip
        _answer(wire, {"value": encode(about)})
    except TmuxAgentError as exc:
        _answer(wire, {"error": encode_error(exc)})
        return
    state: dict[str, Any] = {"listed": {}}  # the connection's: see _call
    calls: queue.Queue[bytes | None] = queue.Queue()
    threading.Thread(target=_listen, args=(wire, calls), daemon=True).start()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # the listener's to send
    while True:
        request = calls.get()
        if request is None:
            return
        try:
            name, method, args, kwargs = json.loads(request)
            value = _call(server, state, name, method, decode(args), decode(kwargs))
            if name is None and method in STREAM_CALLS:
                for item in value:
                    _answer(wire, {"item": encode(item)})
                value = None
            _answer(wire, {"value": encode(value)})
        except TmuxAgentError as exc:
            _answer(wire, {"error": encode_error(exc)})
        except (TypeError, ValueError) as exc:  # a call this API does not take: said, not died of
            _answer(wire, {"error": encode_error(UsageError(f"bad call: {exc}"))})
        except Exception as exc:  # the connection stays usable; the caller is told
            _answer(wire, {"error": encode_error(TmuxError(f"{type(exc).__name__}: {exc}"))})


def _listen(wire: Wire, calls: queue.Queue[bytes | None]) -> None:
    """Take the client's calls; when it leaves (Ctrl-C, a lost connection),
    stop the call that runs, as Ctrl-C would."""
    try:
        while (frame := wire.read()) is not None:
            if frame[0] == CALL:
                calls.put(frame[1])
    except (OSError, ProtocolError):
        pass
    calls.put(None)
    os.kill(os.getpid(), signal.SIGINT)


def _call(
    server: Server, state: dict[str, Any], name: str | None, method: str, args: list[Any],
    kwargs: Any,
) -> Any:  # fmt: skip
    """``state``: "listed", the sessions the last sessions() answered, by
    name; "reading", the read_stream() open on this connection."""
    listed = state["listed"]
    if name is None:
        if method not in SERVER_CALLS:
            raise UsageError(f"the host does not take {method!r}")
        if method == "by_name":  # a dashboard's: output_sizes or states of sessions
            # it listed, by their names (ten times a second: no whole records)
            if args[0] not in ("output_sizes", "states"):
                raise UsageError(f"the host does not take {args[0]!r} by name")
            names = args[1]
            value = getattr(server, args[0])([listed[n] for n in names if n in listed])
            return [value, [n for n in names if n not in listed]]
        value = getattr(server, method)(*args, **kwargs)
        if method == "sessions":
            listed.clear()
            listed.update((info.name, info) for info in value)
        if method == "start":  # a Session: its name, and what it saw starting
            return {"name": value.name, "started": value.started}
        return value
    if method not in SESSION_CALLS:
        raise UsageError(f"the host does not take {method!r}")
    session = server.session(name)
    if method == "read_open":
        if "reading" in state:
            raise UsageError("a read_stream() is open on this connection already")
        stream = session.read_stream(max_chars=int(args[0]))
        state["reading"] = stream.__enter__()
        return list(stream)
    if method in ("read_delivered", "read_close"):
        if "reading" not in state:
            raise UsageError("no read_stream() is open on this connection")
        if method == "read_close":
            return state.pop("reading").__exit__(None, None, None)
        return state["reading"].delivered(int(args[0]))
    if method == "cast_text":
        import io

        out = io.StringIO()
        session.write_cast(out)
        return out.getvalue()
    found = getattr(session, method)
    return found(*args, **kwargs) if callable(found) else found


def _answer(wire: Wire, answer: dict[str, Any]) -> None:
    wire.send(RESULT, json.dumps(answer).encode())
