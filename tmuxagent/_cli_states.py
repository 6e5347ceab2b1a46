"""The CLI's words for states (``wait --state``, ``explain``): loaded only
by the verbs that use them."""

from __future__ import annotations

from ._cli_io import Args
from ._cli_io import print_json as _print_json
from ._cli_io import print_text as _print
from ._cli_io import visible as _visible
from .cli import _server, _timeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    import queue
    import subprocess
    from typing import Any

    from ._states import State


def fields(state: State | None) -> dict[str, Any]:
    """A state as ``status --json`` and ``list --json`` show it."""
    if state is None:  # the session went while it was looked at
        return {"state": "exited", "state_detail": "gone", "profile": ""}
    return {"state": state.state, "state_detail": state.detail, "profile": state.profile}


def cmd_wait_state(args: Args) -> int:
    from ._states import parse_states

    wanted = parse_states(args.state)
    session = _server(args).session(args.name)
    state = session.wait_state(*sorted(wanted), timeout=_timeout(args))
    if args.json:
        _print_json(fields(state))
    else:
        _print(_visible(f"{state.state}: {state.detail}" if state.detail else state.state))
    return 0


def cmd_explain(args: Args) -> int:
    from ._profiles import load
    from ._states import considered, detect, looks

    server = _server(args)
    session = server.session(args.name)
    info = session.status()
    look = looks(server.host, [info]).get(info.name)
    if look is None:
        from .errors import NoSuchSession

        raise NoSuchSession(args.name)
    profiles = load()
    state = detect(look, profiles)
    out = [f"state: {state.state}" + (f" ({state.detail})" if state.detail else "")]
    if state.profile:
        out.append(f"decided by profile {state.profile!r}: {state.rule}")
    else:
        out.append("decided by no rule: " + (
            "the program has ended" if state.state == "exited" else
            "output in the last second, or the program is not reading input"
            if state.state == "working" else "no rule held and the output has stopped"
        ))  # fmt: skip
    out.append(
        f"seen: program {look.program!r}, foreground {look.current!r}, "
        f"quiet {look.quiet:.1f}s, reading {look.reading}, echo {look.echo}, "
        f"alternate screen {look.alternate}, cursor row {look.cursor_y}, title {look.title!r}"
    )
    if state.rows:
        out.append("on the screen:")
        out += [f"  {n:3d} | {look.rows[n]}" for n in state.rows if n < len(look.rows)]
    out.append("profiles tried, in order:")
    for profile, rule, result in considered(look, profiles):
        if rule is None:
            out.append(f"  {profile.name} ({profile.path}): {result}")
        else:
            out.append(f"    rule {rule.describe()}: {result}")
    _print("\n".join(_visible(line) for line in out))
    return 0


def cmd_events(args: Args) -> int:
    """One JSON object a line for each event; with --exec, CMD runs for each,
    one after the other in their order, beside the watching (the JSON on its
    stdin; the event, session, state, previous state and detail also in
    TMUXAGENT_* variables, so that the command needs no quoting of its own).
    Ctrl-C ends the command that runs and drops those still to run."""
    import queue
    import sys
    import threading

    from ._cli_io import dump_json

    todo: queue.Queue[dict[str, Any] | None] = queue.Queue()
    runner = _Runner(args.exec, todo) if args.exec is not None else None
    worker = threading.Thread(target=runner.run, daemon=True) if runner else None
    if worker is not None:
        worker.start()
    try:
        for event in _server(args).events(args.names, timeout=args.timeout):
            sys.stdout.write(dump_json(event) + "\n")
            sys.stdout.flush()
            todo.put(event)
    except BaseException:
        if runner is not None:
            runner.stop()
        raise
    if worker is not None:
        todo.put(None)
        worker.join()
    return 0


class _Runner:
    """Runs ``--exec``'s command for each event of a queue, in turn."""

    def __init__(self, command: str, todo: queue.Queue[dict[str, Any] | None]) -> None:
        import threading

        self.command = command
        self.todo = todo
        self.stopped = threading.Event()
        self.current: subprocess.Popen[bytes] | None = None

    def run(self) -> None:
        import os
        import subprocess

        from ._cli_io import dump_json

        while (event := self.todo.get()) is not None and not self.stopped.is_set():
            names = ("event", "session", "state", "previous", "detail")
            said = {f"TMUXAGENT_{k.upper()}": str(event.get(k) or "") for k in names}
            try:
                self.current = subprocess.Popen(
                    ["/bin/sh", "-c", self.command], stdin=subprocess.PIPE,
                    env={**os.environ, **said}, start_new_session=True,
                )  # fmt: skip
                self.current.communicate(dump_json(event).encode() + b"\n")
            except OSError:  # no /bin/sh; a broken pipe: the next event tries again
                pass

    def stop(self) -> None:
        """Drop what is still to run, and end what runs (its shell's group)."""
        self.stopped.set()
        import os
        import signal

        current = self.current
        if current is not None and current.poll() is None:
            try:
                os.killpg(current.pid, signal.SIGTERM)
            except OSError:  # it has just ended
                pass
