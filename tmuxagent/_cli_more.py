"""The CLI's less frequent verbs (record, dashboard, demo, skill): loaded
only when one of them runs, so that the others start faster."""

from __future__ import annotations

import sys

from ._cli_io import PROG, Args, check_open
from ._cli_io import print_text as _print
from ._cli_io import visible as _visible
from .cli import _server
from .errors import UsageError, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def cmd_record(args: Args) -> int:
    session = _server(args).session(args.name)
    if args.stop and args.cast is not None:
        raise UsageError("give --cast FILE or --stop, not both")
    if args.cast == "-":
        check_open()
    if args.stop:
        session.stop_recording()
    elif args.cast is not None:
        unrecorded = (
            "" if session.recorded else " (not recorded: all of the log, at the window's size now)"
        )
        if args.cast == "-":
            session.write_cast(sys.stdout)
            if unrecorded:
                sys.stderr.write(f"{PROG}: wrote the cast{unrecorded}\n")
            return 0
        events = session.save_cast(args.cast)
        cast = _visible(args.cast)
        _print(f"wrote {events} events to {cast}{unrecorded} (play it: asciinema play {cast})")
    else:
        session.start_recording()
        _print(f"recording {args.name!r}; save it with: {PROG} record {args.name} --cast FILE")
    return 0


def cmd_dashboard(args: Args) -> int:
    from .server import Server

    # The hosts' names are checked first (no connection is made yet).
    hosts = {h: Server(host=h, timeout=args.tmux_timeout) for h in args.hosts}
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the dashboard needs a terminal; run it in one (or in a tmux pane)")
    server: Any = _server(args)
    if hosts:  # this machine's server (or -H's) and those of the hosts, as one
        from .dashboard.hosts import Hosts

        server = Hosts({"": server} | hosts)
    from .dashboard import run

    return run(server, interval=args.interval, naive=args.naive, bell=args.bell)


def cmd_demo(args: Args) -> int:
    from ._demo import run_demo

    return run_demo(_server(args), _print, args.socket)


def cmd_skill(args: Args) -> int:
    from ._skill import install_skill

    if args.action != "install":
        raise UsageError(f"unknown skill action {shown(args.action)}; use 'skill install [DIR]'")
    path = install_skill(args.dir, force=args.force)
    _print(f"installed the tmux skill in {_visible(path)}")
    return 0
