"""The ``tmuxagent`` command: parse, call one library function, print.

Agents run this once per step, so it starts fast: no argparse (it and what it
imports cost more than a tmux round trip), just a table of verbs below and a
small parser. Exit codes: 0 success; 1 a wait or run timed out; 2 bad usage
or input; 3 session problem (no such session, name taken, program exited,
shell busy); 4 tmux missing or failed. Errors are one line on stderr.
"""

from __future__ import annotations

import os
import sys

from ._cli_io import (
    GLOBAL_OPTIONS,
    PROG,
    Args,
    Exit,
    Opt,
    Verb,
    check_open,
    env_pairs,
    option_lines,
    parse,
    plain,
    print_result,
    step_json,
)
from ._cli_io import print_json as _print_json
from ._cli_io import print_text as _print
from ._cli_io import visible as _visible
from ._poll import DEFAULT_TIMEOUT
from .errors import TmuxAgentError, UsageError, WaitTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

    from ._input import Sent
    from ._records import RunResult
    from .server import Server
    from .session import Session

#: Verbs run here whatever the host: the skill (the agent's here), the dashboard (over the API).
LOCAL_VERBS = ("skill", "dashboard")
#: For a remote caller (set by _serve): the host as it named it, and its ssh command to attach.
HOST_LABEL: str | None = None
ATTACH_VIA: list[str] = []

DESCRIPTION = (
    "Drive interactive terminal programs in tmux: for agents, scripts and the humans watching them."
)
EPILOG = """\
exit codes: 0 ok, 1 timed out / condition not met, 2 bad usage or input,
  3 session problem (missing, name taken, program exited, busy), 4 tmux failed.
socket: -S PATH, else $TMUXAGENT_SOCKET (if not empty), else
  ${TMUXAGENT_SOCKET_DIR:-${XDG_RUNTIME_DIR:-/tmp}/tmuxagent-$UID}/default
text or names that start with '-' go after '--'."""

#: Lines longer than this are cut by programs that read in canonical mode.
_CANON_LIMIT = 4095


def _main_help() -> str:
    width = max(len(v) for v in VERBS)
    verbs = "\n".join(f"  {v.name:<{width}}  {v.help}" for v in VERBS.values())
    version = Opt("--version", "flag", "print the version")
    options = "\n".join(option_lines([*GLOBAL_OPTIONS, version]))
    return (
        f"usage: {PROG} [-S PATH] VERB [ARGS...]   ({PROG} VERB --help for more)\n\n"
        f"{DESCRIPTION}\n\nverbs:\n{verbs}\n\noptions (before VERB):\n{options}\n\n"
        f"{EPILOG}"
    )


def _host(args: Args) -> str | None:  # -H, else $TMUXAGENT_HOST (empty or unset: here)
    return args.host if args.host is not None else os.environ.get("TMUXAGENT_HOST") or None


def _server(args: Args) -> Server:
    from .server import Server

    if host := _host(args):  # a verb that runs here (the dashboard) on a host's server
        return Server(args.socket, host=host, timeout=args.tmux_timeout)
    server = Server(args.socket, timeout=args.tmux_timeout)
    server.host.one_call = True  # one verb: a server gone after answering stopped under it
    return server


def _join(words: Sequence[str]) -> str:
    import shlex

    return shlex.join(words)


def _attach_command(session: Session, read_only: bool = False) -> list[str]:
    cmd = session.attach_command(read_only=read_only)  # through ssh, for a remote caller:
    return [*ATTACH_VIA, _join(cmd)] if ATTACH_VIA else cmd


# -- verbs ------------------------------------------------------------------------


def cmd_start(args: Args) -> int:
    server = _server(args)
    command = args.command
    if command and command[0] == "--":  # start -- -name -- COMMAND
        command = command[1:]
    session = server.start(
        args.name,
        command or None,
        cwd=args.cwd,
        env=env_pairs(args.env),
        size=args.size,
        record=args.record,
        log_limit=args.log_limit,
        wait=args.wait,
        wait_idle=args.wait_idle,
        timeout=_timeout(args),
    )
    info = session.status()
    attach = _join(_attach_command(session))
    seen = session.started
    if args.json:
        more = {} if seen is None else step_json(None, seen)
        _print_json({**more, **info.as_dict(), "attach": attach})
    else:
        _print(
            f"started {args.name!r} (pid {info.pid}): {_visible(info.command)}\n"
            f"watch or take over: {_visible(attach)}"
        )
        if seen is not None and seen.output:
            _print(seen.output)
    return 0


def cmd_send(args: Args) -> int:
    text = " ".join(args.text)
    longest = max(len(line.encode("utf-8", "surrogateescape")) for line in text.split("\n"))
    if longest > _CANON_LIMIT:
        sys.stderr.write(
            f"{PROG}: warning: a line of {longest} bytes; programs that read whole lines "
            f"from the terminal (cat, read, input()) get only {_CANON_LIMIT} of them: "
            "send a file's path instead, or split the line\n"
        )
    return _type(args, text)


def _type(args: Args, text: str, *, paste: bool = False) -> int:
    """Type (or paste) TEXT, then wait if asked; with --json, say whether
    Enter was pressed, and twice."""
    session = _server(args).session(args.name)
    typing = session.paste if paste else session.send
    return _stepped(args, typing(text, enter=args.enter, retry_enter=not args.no_retry,
                                 **_waiting(args)))  # fmt: skip


def cmd_keys(args: Args) -> int:
    return _stepped(args, _server(args).session(args.name).keys(*args.keys, **_waiting(args)))


def _waiting(args: Args) -> dict[str, Any]:
    """What a step waits for after its input (--wait, --wait-idle, --wait-prompt)."""
    return {"wait": args.wait, "wait_idle": args.wait_idle,
            "wait_prompt": args.wait_prompt, "timeout": _timeout(args)}  # fmt: skip


def _stepped(args: Args, sent: Sent) -> int:
    """Print what a step did (--json) and the output its wait saw."""
    if args.json:
        _print_json(step_json(args.name, sent))
    elif sent.output is not None:
        print_result(sent.output, sent.exit_code)
    return 0


def cmd_paste(args: Args) -> int:
    from ._cli_io import read_input

    return _type(args, read_input("-" if args.file is None else args.file), paste=True)


def cmd_capture(args: Args) -> int:
    if args.lines is not None and args.all:
        raise UsageError("give --lines N or --all, not both")
    session = _server(args).session(args.name)
    cap = session.capture(lines=args.lines, history=args.all, ansi=args.ansi)
    if args.json:
        _print_json({"name": args.name, "lines": cap.lines,
                     "cursor": {"x": cap.cursor_x, "y": cap.cursor_y},
                     "size": f"{cap.cols}x{cap.rows}", "alive": cap.alive})  # fmt: skip
    else:
        _print(cap.text)
    return 0


def cmd_read(args: Args) -> int:
    session = _server(args).session(args.name)
    with session.read_stream(max_chars=args.max_chars) as stream:
        from ._cli_io import deliver

        if args.json:
            _print_json({"name": args.name, "output": "".join(stream)})
            sys.stdout.flush()
            stream.delivered(len(stream))
        else:  # exactly: a piece may end mid-line, and the next read goes on from there
            deliver(stream)
    return 0


def _timeout(args: Args) -> float:
    return DEFAULT_TIMEOUT if args.timeout is None else float(args.timeout)


def cmd_wait(args: Args) -> int:
    chosen = [args.text is not None, args.idle is not None, args.exit, args.prompt,
              args.state is not None]  # fmt: skip
    if sum(chosen) != 1:
        raise UsageError(
            "wait needs exactly one of --text REGEX, --idle SECONDS, --exit, --prompt, "
            "--state STATE[,STATE...]"
        )
    if args.state is not None:
        from ._cli_states import cmd_wait_state

        return cmd_wait_state(args)
    session = _server(args).session(args.name)
    if args.prompt:
        return _ran(args, session.wait_prompt(timeout=_timeout(args)))
    if args.text is not None:
        match = session.wait_text(args.text, timeout=_timeout(args))
        text = match.string
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        _print(text[start : end if end != -1 else len(text)])
    elif args.idle is not None:
        session.wait_idle(args.idle, timeout=args.timeout)
    else:
        status = session.wait_exit(timeout=_timeout(args))
        _print(f"exited with status {status}" if status >= 0 else f"killed by signal {-status}")
    return 0


def cmd_run(args: Args) -> int:
    session = _server(args).session(args.name)
    return _ran(args, session.run(" ".join(args.command), timeout=_timeout(args)))


def _ran(args: Args, result: RunResult) -> int:
    """Print what a command run in the agent shell printed, and how it ended."""
    _print_json(result._asdict()) if args.json else print_result(result.output, result.exit_code)
    return 0


def cmd_status(args: Args) -> int:
    from ._cli_states import fields

    server = _server(args)
    session = server.session(args.name)
    info = session.status()
    data = {**info.as_dict(), **fields(server.states([info]).get(info.name))}
    if args.json:
        _print_json({**data, "host": HOST_LABEL, "attach": _join(_attach_command(session))})
    else:
        _print("\n".join(f"{key}: {_visible(plain(key, value))}" for key, value in data.items()))
    return 0


def cmd_list(args: Args) -> int:
    from ._cli_states import fields

    server = _server(args)
    infos = server.sessions()
    states = server.states(infos) if infos else {}
    if args.json:
        _print_json([{**i.as_dict(), **fields(states.get(i.name)), "host": HOST_LABEL}
                     for i in infos])  # fmt: skip
        return 0
    if not infos:
        return 0
    rows = [("NAME", "STATE", "STATUS", "PID", "SIZE", "COMMAND")]
    rows += [
        (_visible(i.name), fields(states.get(i.name))["state"], i.describe(), str(i.pid),
         f"{i.cols}x{i.rows}", _visible(i.command))
        for i in infos
    ]  # fmt: skip
    widths = [max(len(r[c]) for r in rows) for c in range(5)]
    table = ("  ".join(r[c].ljust(widths[c]) for c in range(5)) + "  " + r[5] for r in rows)
    _print("\n".join(table))
    return 0


def cmd_kill(args: Args) -> int:
    server = _server(args)
    if args.all:
        if args.names:
            raise UsageError("give session names or --all, not both")
        server.kill_all()
        return 0
    if not args.names:
        raise UsageError("name the sessions to kill, or use --all")
    failed = 0
    for name in dict.fromkeys(args.names):  # a name given twice is killed once
        try:
            server.session(name).kill()
        except TmuxAgentError as exc:
            sys.stderr.write(f"{PROG}: {_visible(exc)}\n")
            failed = failed or exc.exit_code
    return failed


def cmd_attach(args: Args) -> int:
    cmd = _attach_command(_server(args).session(args.name), args.read_only)
    if args.print:
        _print(_visible(_join(cmd)))
        return 0
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(f"attach needs a terminal; a human can run: {_join(cmd)}")
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    os.execvpe(cmd[0], cmd, env)


NAME = ("name", "NAME", 1)
JSON = Opt("--json", "flag", "print JSON")
TIMEOUT = Opt("--timeout", "float", f"give up after S seconds (default {DEFAULT_TIMEOUT:g})", "S")
#: A step's wait: one call types and waits (see Session.send).
WAIT = [Opt("--wait", "regex", "then wait until new output matches (Python re); print the "
            "output to the end of the match's line", "REGEX"),
        Opt("--wait-idle", "float", "then wait until the screen is still for S seconds; "
            "print the new output", "S", positive=True)]  # fmt: skip
STEP = [*WAIT, Opt("--wait-prompt", "flag", "then wait for the agent shell's prompt; "
                   "print the command's output"), TIMEOUT]  # fmt: skip
WAITS = "[--wait REGEX | --wait-idle S] [--timeout S]"
STEPS = "[--wait REGEX | --wait-idle S | --wait-prompt] [--timeout S]"
NO_RETRY = Opt("--no-retry", "flag", "press Enter once, even if the program seems to drop it")

VERBS = {
    v.name: v
    for v in (
        Verb("start", cmd_start, "start COMMAND (default: an agent shell) in a new session",
             [NAME, ("command", "COMMAND", "*")],
             [Opt("--cwd", "str", "working directory (default: here)", "DIR"),
              Opt("--env", "list", "set a variable (repeatable)", "K=V"),
              Opt("--size", "str", "window size (default 120x40)", "COLSxROWS", "120x40"),
              Opt("--record", "flag", "mark where a recording (asciicast) starts"),
              Opt("--log-limit", "str", "keep the last SIZE of output in the log (default "
                  "$TMUXAGENT_LOG_LIMIT or 100M; 0: all)", "SIZE"),
              *WAIT, TIMEOUT, JSON],
             "NAME [--cwd DIR] [--env K=V]... [--size COLSxROWS] [--record] [--log-limit SIZE] "
             f"{WAITS} [--json] [-- COMMAND [ARG...]]"),
        Verb("send", cmd_send, "type TEXT exactly (then Enter with --enter), then wait if asked",
             [NAME, ("text", "TEXT", "+")],
             [Opt("--enter", "flag", "press Enter after the text"), NO_RETRY, *STEP, JSON],
             f"NAME [--enter [--no-retry]] {STEPS} [--json] [--] TEXT"),
        Verb("keys", cmd_keys, "press named keys: Enter Escape Tab BSpace C-c M-x Up F5 ...",
             [NAME, ("keys", "KEY", "+")], [*STEP, JSON], f"NAME {STEPS} [--json] KEY..."),
        Verb("paste", cmd_paste, "paste a file (or stdin) as one bracketed paste",
             [NAME, ("file", "FILE|-", "?")],
             [Opt("--enter", "flag", "press Enter after the paste"), NO_RETRY, *STEP, JSON],
             f"NAME [FILE|-] [--enter [--no-retry]] {STEPS} [--json]"),
        Verb("capture", cmd_capture, "print the screen, optionally with scrollback",
             [NAME],
             [Opt("--lines", "int", "the last N lines, scrollback included", "N"),
              Opt("--all", "flag", "the whole scrollback"),
              Opt("--ansi", "flag", "keep colours (escape sequences)"), JSON], output=True),
        Verb("read", cmd_read, "print all output since the previous read (lossless)",
             [NAME],
             [Opt("--max-chars", "int", "cut the middle out above N characters", "N", 500_000),
              JSON], output=True),
        Verb("wait", cmd_wait, "wait for new output, a quiet screen, or the program's exit",
             [NAME],
             [Opt("--text", "regex", "output after the last input matches (Python re)", "REGEX"),
              Opt("--idle", "float", "the screen has not changed for S seconds", "S"),
              Opt("--exit", "flag", "the program has exited"),
              Opt("--prompt", "flag", "the agent shell's command has finished (prints "
                  "its output, like run)"),
              Opt("--state", "str", "the program is in one of these states: working, ready, "
                  "asking, idle, exited (prints it and its detail)", "STATE[,STATE...]"),
              TIMEOUT,
              Opt("--json", "flag", "with --prompt: output, exit_code and cwd as JSON; with "
                  "--state: state, state_detail and profile")],
             "NAME (--text REGEX | --idle S | --exit | --prompt | --state STATE[,STATE...]) "
             "[--timeout S] [--json]", output=True),
        Verb("run", cmd_run, "run COMMAND in an agent shell; print only its output",
             [NAME, ("command", "COMMAND", "+")],
             [TIMEOUT,
              Opt("--json", "flag", "output, exit_code and cwd as JSON")],
             "NAME [--timeout S] [--json] [--] COMMAND", output=True),
        Verb("status", cmd_status, "show one session's state", [NAME], [JSON], output=True),
        Verb("events", "_cli_states:cmd_events", "print what happens to sessions as it "
             "happens, a JSON object a line (state changes, started, exited, gone)",
             [("names", "NAME", "*")],
             [Opt("--timeout", "float", "stop after S seconds (default: never)", "S"),
              Opt("--exec", "str", "run shell command CMD for each event, the JSON on its "
                  "stdin (and TMUXAGENT_EVENT, _SESSION, _STATE, _PREVIOUS, _DETAIL)", "CMD")],
             "[NAME...] [--timeout S] [--exec CMD]", output=True),
        Verb("explain", "_cli_states:cmd_explain", "say why a session is in its state: which "
             "profile and rule, on which rows", [NAME], [], output=True),
        Verb("list", cmd_list, "list sessions", [], [JSON], output=True),
        Verb("kill", cmd_kill, "kill sessions (and the programs in them)",
             [("names", "NAME", "*")],
             [Opt("--all", "flag", "kill every session and the server")],
             "NAME... | --all"),
        Verb("attach", cmd_attach, "attach a terminal to a session (a human takes over)",
             [NAME],
             [Opt("--print", "flag", "only print the tmux command"),
              Opt("--read-only", "flag", "watch without typing")], output=True),
        Verb("record", "_cli_more:cmd_record", "record output with timing; save it as asciicast v2",
             [NAME],
             [Opt("--cast", "str", "write the recording to FILE ('-': stdout)", "FILE"),
              Opt("--stop", "flag", "stop recording")],
             "NAME [--cast FILE | --stop]"),
        Verb("dashboard", "_cli_more:cmd_dashboard",
             "watch every session live; step in (a Textual app)",
             [],
             [Opt("--interval", "float", "seconds between refreshes (default 0.1)", "S", 0.1,
                  positive=True),
              Opt("--naive", "flag", "capture every pane each tick (for benchmarks)"),
              Opt("--bell", "flag", "ring the terminal's bell when a session starts asking"),
              Opt("--host", "list", "also show the sessions of HOST, as HOST/NAME (repeat it)",
                  "HOST", dest="hosts")]),
        Verb("demo", "_cli_more:cmd_demo",
             "drive a Python REPL in tmux and show how (the main job)"),
        Verb("skill", "_cli_more:cmd_skill", "install the agent skill (default: ~/.claude/skills)",
             [("action", "install", 1), ("dir", "DIR", "?")],
             [Opt("--force", "flag", "replace whatever is in DIR/tmux")],
             "install [DIR] [--force]"),
    )
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from . import __version__

        verb, args = parse(
            list(sys.argv[1:] if argv is None else argv), VERBS, _main_help, __version__
        )
    except Exit as exit:
        try:
            (sys.stdout if exit.code == 0 else sys.stderr).write(exit.message + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # tmuxagent --help | head -1
            pass
        return exit.code
    try:
        if verb.output:
            check_open()
        host = _host(args)
        if host and verb.name not in LOCAL_VERBS:
            from ._remote import cmd_remote

            code = cmd_remote(host, args)
        else:
            code = verb.call(args)
        sys.stdout.flush()  # here, so that a closed pipe or a full disk is handled below
        return code
    except WaitTimeout as exc:
        sys.stderr.write(f"{PROG}: {_visible(exc)}\n")
        if exc.screen:
            sys.stderr.write("last lines of the screen:\n")
            sys.stderr.write("".join(f"  | {_visible(ln)}\n" for ln in exc.screen.split("\n")))
        return exc.exit_code
    except TmuxAgentError as exc:  # its message may quote names, paths and tmux's own words
        sys.stderr.write(f"{PROG}: {_visible(exc)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the machine, not tmuxagent: a full disk, a vanished directory
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"{PROG}: {_visible(exc.strerror or exc)}{_visible(where)}\n")
        return 4


def run() -> NoReturn:
    """The ``tmuxagent`` command: :func:`main`, then a quick exit.

    The interpreter's own teardown would cost more than a tmux call and has
    nothing to do: the CLI leaves no threads, temporary files or handlers
    behind, and :func:`main` has flushed its output (what a closed pipe left
    in the buffer is dropped, as it would be anyway).
    """
    from ._cli_io import guard_standard_fds

    guard_standard_fds()
    code = main()
    try:
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
