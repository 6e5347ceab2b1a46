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
