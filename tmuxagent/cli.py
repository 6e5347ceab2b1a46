"""The ``tmuxagent`` command: parse, call one library function, print.

Exit codes: 0 success; 1 a wait or run timed out; 2 bad usage or input;
3 session problem (no such session, name taken, program exited, shell busy);
4 tmux missing or failed. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .errors import TmuxAgentError, UsageError, WaitTimeout

EPILOG = """\
exit codes: 0 ok, 1 timed out / condition not met, 2 bad usage or input,
3 session problem (missing, name taken, program exited, busy), 4 tmux failed.
socket: -S PATH, else $TMUXAGENT_SOCKET, else
${TMUXAGENT_SOCKET_DIR:-${XDG_RUNTIME_DIR:-/tmp}/tmuxagent-$UID}/default
"""

#: Lines longer than this are cut by programs that read in canonical mode.
_CANON_LIMIT = 4095


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        hint = ""
        if "unrecognized arguments" in message:
            hint = "; quote TEXT/COMMAND, or put it after --"
        self.exit(2, f"{self.prog}: error: {message}{hint} (see '{self.prog} --help')\n")


def _print(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=None) + "\n")


def _server(args: argparse.Namespace) -> Any:
    from .server import Server

    return Server(args.socket, timeout=args.tmux_timeout)


def _env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env wants KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def _attach_hint(server: Any, name: str) -> str:
    cmd = server.attach_command(name)
    return shlex.join(cmd)


# -- verbs ------------------------------------------------------------------


def cmd_start(args: argparse.Namespace) -> int:
    server = _server(args)
    session = server.start(
        args.name,
        args.command or None,
        cwd=args.cwd,
        env=_env_pairs(args.env),
        size=args.size,
        record=args.record,
    )
    info = session.status()
    if args.json:
        _print_json({**info.as_dict(), "attach": _attach_hint(server, args.name)})
    else:
        _print(
            f"started {args.name!r} (pid {info.pid}): {info.command}\n"
            f"watch or take over: {_attach_hint(server, args.name)}"
        )
    return 0


def _text_arg(words: Sequence[str]) -> str:
    return " ".join(words)


def cmd_send(args: argparse.Namespace) -> int:
    text = _text_arg(args.text)
    _warn_long_lines(text)
    _server(args).session(args.name).send(text, enter=args.enter)
    return 0


def _warn_long_lines(text: str) -> None:
    longest = max((len(line.encode()) for line in text.split("\n")), default=0)
    if longest > _CANON_LIMIT:
        sys.stderr.write(
            f"tmuxagent: warning: a line of {longest} bytes; programs that read whole "
            f"lines from the terminal (cat, read, input()) get only {_CANON_LIMIT} "
            "of them: send a file's path instead, or split the line\n"
        )


def cmd_keys(args: argparse.Namespace) -> int:
    _server(args).session(args.name).keys(*args.keys)
    return 0


def cmd_paste(args: argparse.Namespace) -> int:
    source = args.file
    try:
        if source == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source!r}: {exc.strerror}") from None
    text = data.decode("utf-8", "surrogateescape")
    _server(args).session(args.name).paste(text, enter=args.enter)
    return 0


def cmd_capture(args: argparse.Namespace) -> int:
    cap = (
        _server(args).session(args.name).capture(lines=args.lines, history=args.all, ansi=args.ansi)
    )
    if args.json:
        _print_json(
            {
                "name": args.name,
                "lines": cap.lines,
                "cursor": {"x": cap.cursor_x, "y": cap.cursor_y},
                "size": f"{cap.cols}x{cap.rows}",
                "alive": cap.alive,
            }
        )
    else:
        _print(cap.text)
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    text = _server(args).session(args.name).read(max_chars=args.max_chars)
    if args.json:
        _print_json({"name": args.name, "output": text})
    elif text:
        _print(text)
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    session = _server(args).session(args.name)
    if args.text is not None:
        match = session.wait_text(args.text, timeout=args.timeout)
        text = match.string
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        _print(text[start : end if end != -1 else len(text)])
    elif args.idle is not None:
        session.wait_idle(args.idle, timeout=args.timeout)
    else:
        status = session.wait_exit(timeout=args.timeout if args.timeout is not None else 30.0)
        _print(f"exited with status {status}" if status >= 0 else f"killed by signal {-status}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    result = _server(args).session(args.name).run(_text_arg(args.command), timeout=args.timeout)
    if args.json:
        _print_json(result._asdict())
    else:
        if result.output:
            _print(result.output)
        if result.exit_code:
            sys.stderr.write(f"[exit status {result.exit_code}]\n")
    return 0


def _status_lines(info: Any) -> str:
    data = info.as_dict()
    return "\n".join(f"{key}: {value}" for key, value in data.items())


def cmd_status(args: argparse.Namespace) -> int:
    server = _server(args)
    info = server.session(args.name).status()
    if args.json:
        _print_json({**info.as_dict(), "attach": _attach_hint(server, args.name)})
    else:
        _print(_status_lines(info))
    return 0


def _state(info: Any) -> str:
    if info.alive:
        return f"idle {info.idle:.0f}s" if info.idle >= 1 else "running"
    if info.signal:
        return f"killed ({info.signal})"
    return f"exited {info.exit_status}"


def cmd_list(args: argparse.Namespace) -> int:
    infos = _server(args).sessions()
    if args.json:
        _print_json([i.as_dict() for i in infos])
        return 0
    if not infos:
        return 0
    rows = [("NAME", "STATUS", "PID", "SIZE", "COMMAND")]
    rows += [(i.name, _state(i), str(i.pid), f"{i.cols}x{i.rows}", i.command) for i in infos]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    table = ("  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  " + r[4] for r in rows)
    _print("\n".join(table))
    return 0


def cmd_kill(args: argparse.Namespace) -> int:
    server = _server(args)
    if args.all:
        if args.names:
            raise UsageError("give session names or --all, not both")
        server.kill_all()
        return 0
    if not args.names:
        raise UsageError("name the sessions to kill, or use --all")
    failed: TmuxAgentError | None = None
    for name in args.names:
        try:
            server.session(name).kill()
        except TmuxAgentError as exc:
            sys.stderr.write(f"tmuxagent: {exc}\n")
            failed = failed or exc
    return failed.exit_code if failed else 0


def cmd_attach(args: argparse.Namespace) -> int:
    cmd = _server(args).attach_command(args.name, read_only=args.read_only)
    if args.print:
        _print(shlex.join(cmd))
        return 0
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(f"attach needs a terminal; a human can run: {shlex.join(cmd)}")
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    os.execvpe(cmd[0], cmd, env)


def cmd_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(_server(args), _print)


def cmd_skill(args: argparse.Namespace) -> int:
    from ._skill import install_skill

    path = install_skill(args.dir, force=args.force)
    _print(f"installed the tmux skill in {path}")
    return 0


# -- parser -----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="tmuxagent",
        description="Drive interactive terminal programs in tmux: for agents, scripts and "
        "the humans watching them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-S", "--socket", metavar="PATH", help="tmux server socket to use")
    p.add_argument("--tmux-timeout", type=float, default=10.0, metavar="S", help=argparse.SUPPRESS)
    p.add_argument("--version", action="version", version=f"tmuxagent {_version()}")
    sub = p.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=_Parser)

    def verb(name: str, func: Callable[[argparse.Namespace], int], help: str) -> Any:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    def name_arg(sp: Any) -> None:
        sp.add_argument("name", metavar="NAME", help="session name")

    sp = verb("start", cmd_start, "start COMMAND (default: an agent shell) in a new session")
    name_arg(sp)
    sp.add_argument("--cwd", metavar="DIR", help="working directory (default: here)")
    sp.add_argument(
        "--env", action="append", default=[], metavar="K=V", help="set a variable (repeatable)"
    )
    sp.add_argument("--size", default="120x40", metavar="COLSxROWS", help="default 120x40")
    sp.add_argument("--record", action="store_true", help="record output with timing")
    sp.add_argument("--json", action="store_true", help="print the session's status as JSON")
    sp.add_argument("command", nargs="*", metavar="-- COMMAND [ARG...]")

    sp = verb("send", cmd_send, "type TEXT exactly (then Enter with --enter)")
    name_arg(sp)
    sp.add_argument("--enter", action="store_true", help="press Enter after the text")
    sp.add_argument("text", nargs="+", metavar="TEXT")

    sp = verb("keys", cmd_keys, "press named keys: Enter Escape Tab BSpace C-c M-x Up F5 ...")
    name_arg(sp)
    sp.add_argument("keys", nargs="+", metavar="KEY")

    sp = verb("paste", cmd_paste, "paste a file (or stdin) as one bracketed paste")
    name_arg(sp)
    sp.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    sp.add_argument("--enter", action="store_true", help="press Enter after the paste")

    sp = verb("capture", cmd_capture, "print the screen, optionally with scrollback")
    name_arg(sp)
    group = sp.add_mutually_exclusive_group()
    group.add_argument("--lines", type=int, metavar="N", help="the last N lines")
    group.add_argument("--all", action="store_true", help="the whole scrollback")
    sp.add_argument("--ansi", action="store_true", help="keep colours (escape sequences)")
    sp.add_argument("--json", action="store_true")

    sp = verb("read", cmd_read, "print all output since the previous read (lossless)")
    name_arg(sp)
    sp.add_argument("--max-chars", type=int, default=500_000, metavar="N", help=argparse.SUPPRESS)
    sp.add_argument("--json", action="store_true")

    sp = verb("wait", cmd_wait, "wait for output, quiet or exit")
    name_arg(sp)
    group = sp.add_mutually_exclusive_group(required=True)
    group.add_argument("--text", metavar="REGEX", help="output after the last input matches")
    group.add_argument("--idle", type=float, metavar="S", help="screen unchanged for S seconds")
    group.add_argument("--exit", action="store_true", help="the program has exited")
    sp.add_argument("--timeout", type=float, default=None, metavar="S", help="default 30")

    sp = verb("run", cmd_run, "run COMMAND in an agent shell; print only its output")
    name_arg(sp)
    sp.add_argument("--timeout", type=float, default=30.0, metavar="S", help="default 30")
    sp.add_argument("--json", action="store_true", help="output, exit_code and cwd as JSON")
    sp.add_argument("command", nargs="+", metavar="COMMAND")

    sp = verb("status", cmd_status, "show one session's state")
    name_arg(sp)
    sp.add_argument("--json", action="store_true")

    sp = verb("list", cmd_list, "list sessions")
    sp.add_argument("--json", action="store_true")

    sp = verb("kill", cmd_kill, "kill sessions (and the programs in them)")
    sp.add_argument("names", nargs="*", metavar="NAME")
    sp.add_argument("--all", action="store_true", help="kill every session and the server")

    sp = verb("attach", cmd_attach, "attach a terminal to a session (a human takes over)")
    name_arg(sp)
    sp.add_argument("--print", action="store_true", help="only print the tmux command")
    sp.add_argument("--read-only", action="store_true", help="watch without typing")

    verb("demo", cmd_demo, "drive a Python REPL in tmux and show how (the README's main job)")

    sp = verb("skill", cmd_skill, "install the agent skill")
    skill_sub = sp.add_subparsers(dest="skill_verb", metavar="install", required=True)
    inst = skill_sub.add_parser("install", help="copy the skill where agents find it")
    inst.add_argument("dir", nargs="?", default=None, metavar="DIR", help="~/.claude/skills")
    inst.add_argument("--force", action="store_true", help="replace an installed copy")
    return p


def _version() -> str:
    from . import __version__

    return __version__


def _split_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """Cut ``start ... -- COMMAND ARGS`` at the ``--`` (argparse cannot)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in ("-S", "--socket", "--tmux-timeout") else 1
    if i < len(argv) and argv[i] == "start" and "--" in argv[i:]:
        cut = argv.index("--", i)
        return argv[:cut], argv[cut + 1 :]
    return argv, None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words, command = _split_command(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(words)
    if command is not None:
        if args.command:
            parser.error("give COMMAND after --, not before it")
        args.command = command
    if args.verb == "wait" and args.timeout is None and args.idle is None:
        args.timeout = 30.0
    try:
        code: int = args.func(args)
    except WaitTimeout as exc:
        sys.stderr.write(f"tmuxagent: {exc}\n")
        if exc.screen:
            sys.stderr.write("last lines of the screen:\n")
            sys.stderr.write("".join(f"  | {line}\n" for line in exc.screen.split("\n")))
        return exc.exit_code
    except TmuxAgentError as exc:
        sys.stderr.write(f"tmuxagent: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
