"""Bad input, every verb and every option: one clear line on stderr (never a
traceback) and the documented exit code (issue 10). Also a program that
cannot run, and a server that stops or hangs under a verb.

The table runs the CLI in this process (``tmuxagent.cli.main``); only the
rows that need a session start tmux. ``OPTIONS`` and ``POSITIONALS`` must
name every option and positional of the verb table: a new one without rows
fails :func:`test_every_option_and_positional_has_rows`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, wait_until
from tmuxagent import _cli_io
from tmuxagent._cli_io import GLOBAL_OPTIONS
from tmuxagent._local import LocalHost
from tmuxagent.cli import VERBS, main

BIG = "9" * 5000

#: Values no number option takes (each: exit 2, before anything runs).
NUMBERS = [
    ("empty", ""),
    ("huge", BIG),
    ("negative", "-1"),
    ("minus zero", "-0"),
    ("nan", "nan"),
    ("infinity", "inf"),
    ("overflow", "1e999"),
    ("too large", "99999999999"),
    ("arabic digits", "\u0661\u0662"),
    ("superscript", "\u00b2"),
    ("hex", "0x10"),
    ("word", "ten"),
    ("spaces", " 5"),
    ("underscores", "1_0"),
    ("plus", "+5"),
]


class Row:
    """One call of the CLI: ``argv`` (after ``-S SOCKET``, which a row that
    starts with a global option leaves out), the exit code it must give, and
    a word stderr must hold. ``{tmp}`` in argv is a private directory,
    ``{file}`` a file in it; ``session``: it needs a session "s" (``cat``)."""

    def __init__(
        self, argv: list[str], code: int, text: str = "", *, session: bool = False
    ) -> None:
        self.argv = argv
        self.code = code
        self.text = text
        self.session = session


def _context(verb: str) -> tuple[list[str], list[str]]:
    """Words around an option so that the rest of the call is valid."""
    return {
        "start": (["n"], ["--", "true"]),
        "send": (["s"], ["--", "x"]),
        "keys": (["s"], ["Enter"]),
        "paste": (["s", "{file}"], []),
        "run": (["s"], ["--", "true"]),
        "kill": ([], ["s"]),
        "skill": (["install", "{tmp}/skills"], []),
        "list": ([], []),
        "dashboard": ([], []),
        "demo": ([], []),
        "-": ([], ["list"]),
    }.get(verb, (["s"], []))


def _option_rows(verb: str, option: str, values: list[tuple[str, str, int, str]]) -> list[Row]:
    """Rows for an option: its value missing, then each (label, value, code, text)."""
    before, after = _context(verb)
    prefix = [verb, *before] if verb != "-" else []
    rows = [Row([*prefix, option], 2, "needs a value")] if values is not FLAG_ROWS else []
    for _, value, code, text in values:
        if value.startswith("="):  # --flag=value
            rows.append(Row([*prefix, option + value, *after], code, text))
        else:
            rows.append(Row([*prefix, option, value, *after], code, text))
    return rows


def numbers(*extra: tuple[str, str, int, str]) -> list[tuple[str, str, int, str]]:
    return [(label, value, 2, "") for label, value in NUMBERS] + list(extra)


FLAG_ROWS = [("flag with a value", "=yes", 2, "takes no value")]
EMPTY = ("empty", "", 2, "not an empty string")

#: Every option of every verb ('-' for the global ones): (label, value, exit code, text).
OPTIONS: dict[tuple[str, str], list[tuple[str, str, int, str]]] = {
    ("-", "--socket"): [
        EMPTY,
        ("huge", BIG, 2, "too long"),
        ("others can write there", "/tmp/x", 4, "others can write"),
        ("a directory", "{tmp}", 4, "not a socket"),
    ],
    ("-", "--tmux-timeout"): numbers(("zero", "0", 2, "above 0")),
    ("-", "--host"): [
        EMPTY,
        ("huge", BIG, 2, "bad host"),
        ("an ssh option", "-oProxyCommand=touch /tmp/pwned", 2, "bad host"),
        ("shell syntax", "h;id", 2, "bad host"),
        ("a port too big", "h:70000", 2, "bad port"),
    ],
    ("start", "--cwd"): [
        EMPTY,
        ("huge", BIG, 2, "File name too long"),
        ("missing", "{tmp}/nowhere", 2, "does not exist"),
        ("unicode, missing", "{tmp}/\u0661\u0662", 2, "does not exist"),
        ("a file", "{file}", 2, "is not a directory"),
        ("under a file", "{file}/x", 2, "is not a directory"),
    ],
    ("start", "--env"): [
        EMPTY,
        ("huge", BIG, 2, "KEY=VALUE"),
        ("no name", "=x", 2, "KEY=VALUE"),
        ("no =", "NOEQUALS", 2, "KEY=VALUE"),
        ("NUL", "A=\0", 2, "invalid environment variable"),
    ],
    ("start", "--size"): [
        EMPTY,
        ("huge", BIG + "x40", 2, "too large"),
        ("huge rows", "40x" + BIG, 2, "too large"),
        ("negative", "-1x40", 2, "invalid size"),
        ("arabic digits", "\u0661\u0662x40", 2, "invalid size"),
        ("nan", "nanxinf", 2, "invalid size"),
        ("hex", "0x10", 2, "columns 10-1000"),
        ("three parts", "80x24x2", 2, "invalid size"),
        ("small", "5x5", 2, "columns 10-1000"),
    ],
    ("start", "--record"): FLAG_ROWS,
    ("start", "--log-limit"): [
        EMPTY,
        ("huge", BIG, 2, "invalid log limit"),
        ("negative", "-1", 2, "invalid log limit"),
        ("arabic digits", "\u0661\u0662", 2, "invalid log limit"),
        ("nan", "nan", 2, "invalid log limit"),
        ("overflow", "1e999", 2, "invalid log limit"),
        ("hex", "0x10", 2, "invalid log limit"),
    ],
    ("start", "--json"): FLAG_ROWS,
    ("send", "--enter"): FLAG_ROWS,
    ("send", "--no-retry"): FLAG_ROWS,
    ("send", "--json"): FLAG_ROWS,
    ("paste", "--enter"): FLAG_ROWS,
    ("paste", "--no-retry"): FLAG_ROWS,
    ("paste", "--json"): FLAG_ROWS,
    ("capture", "--lines"): numbers(("zero", "0", 2, "at least 1"), ("a fraction", "2.5", 2, "")),
    ("capture", "--all"): FLAG_ROWS,
    ("capture", "--ansi"): FLAG_ROWS,
    ("capture", "--json"): FLAG_ROWS,
    ("read", "--max-chars"): numbers(("zero", "0", 2, "at least 100")),
    ("read", "--json"): FLAG_ROWS,
    ("wait", "--text"): [
        EMPTY,
        ("not a regex", "(", 2, ""),
        ("too many repeats", "a{4294967296}", 2, ""),
        ("matches no text", "foo|", 2, "no text, so it would match at once"),
        ("only an anchor", "^", 2, "no text, so it would match at once"),
    ],
    ("wait", "--idle"): numbers(("zero", "0", 2, "positive")),
    ("wait", "--exit"): FLAG_ROWS,
    ("wait", "--prompt"): FLAG_ROWS,
    ("wait", "--state"): [
        EMPTY,
        ("huge", BIG, 2, "unknown state"),
        ("unknown", "busy", 2, "unknown state 'busy'"),
        ("one unknown of two", "ready,done", 2, "unknown state 'done'"),
        ("only commas", ",,", 2, "unknown state"),
        ("unicode", "\u0661", 2, "unknown state"),
    ],
    ("wait", "--timeout"): numbers(),
    ("wait", "--json"): FLAG_ROWS,
    ("events", "--timeout"): numbers(),
    ("events", "--exec"): [EMPTY],
    ("run", "--timeout"): numbers(),
    ("run", "--json"): FLAG_ROWS,
    ("status", "--json"): FLAG_ROWS,
    ("list", "--json"): FLAG_ROWS,
    ("kill", "--all"): FLAG_ROWS,
    ("attach", "--print"): FLAG_ROWS,
    ("attach", "--read-only"): FLAG_ROWS,
    ("record", "--cast"): [EMPTY],  # more in SESSION_ROWS
    ("record", "--stop"): FLAG_ROWS,
    ("dashboard", "--interval"): numbers(("zero", "0", 2, "above 0")),
    ("dashboard", "--naive"): FLAG_ROWS,
    ("dashboard", "--bell"): FLAG_ROWS,
    ("dashboard", "--host"): [
        EMPTY,
        ("an ssh option", "-oProxyCommand=x", 2, "bad host"),
        ("shell syntax", "a b", 2, "bad host"),
    ],
    ("skill", "--force"): FLAG_ROWS,
    ("keys", "--json"): FLAG_ROWS,
}


def _step_rows(verb: str) -> dict[tuple[str, str], list[tuple[str, str, int, str]]]:
    """A step's wait (issue 11), refused before anything is typed or started."""
    rows = {
        (verb, "--wait"): [
            EMPTY,
            ("not a regex", "(", 2, "invalid regex"),
            ("too many repeats", "a{4294967296}", 2, "too large"),
            ("matches no text", "x?", 2, "so it would match at once"),
        ],
        (verb, "--wait-idle"): numbers(
            ("zero", "0", 2, "above 0"), ("longer than the timeout", "31", 2, "at most the timeout")
        ),
        (verb, "--timeout"): numbers(),
    }
    if verb != "start":
        rows[verb, "--wait-prompt"] = FLAG_ROWS
    return rows


for _verb in ("start", "send", "keys", "paste"):
    OPTIONS.update(_step_rows(_verb))

#: A session name that no verb takes: (label, value, exit code, text).
NAME_ROWS = [
    ("empty", "", 2, "must not be empty"),
    ("huge", BIG, 2, "too long"),
    ("a tab", "a\tb", 2, "non-printable"),
]
#: Every positional of every verb: rows of whole calls ("name" rows are added below).
POSITIONALS: dict[tuple[str, str], list[Row]] = {
    ("start", "command"): [
        Row(["start", "n", "--", ""], 2, "command not found"),
        Row(["start", "n", "--", BIG], 2, "command not found"),
        Row(["start", "n", "--", "{tmp}/missing"], 2, "no such file"),
        Row(["start", "n", "--", "{file}"], 3, "not executable"),
        Row(["start", "n", "--", "{tmp}"], 3, "is a directory"),
    ],
    ("send", "text"): [
        Row(["send", "s"], 2, "TEXT is missing"),
        Row(["send", "s", ""], 0, session=True),  # an empty text: nothing is typed
    ],
    ("keys", "keys"): [
        Row(["keys", "s"], 2, "KEY is missing"),
        Row(["keys", "s", ""], 2, "empty key name"),
        Row(["keys", "s", BIG], 2, "unknown key"),
        Row(["keys", "s", "\u0661\u0662"], 2, "unknown key"),
        Row(["keys", "s", "C-"], 2, "cannot send"),
    ],
    ("paste", "file"): [
        Row(["paste", "s", ""], 2, "cannot read"),
        Row(["paste", "s", BIG], 2, "File name too long"),
        Row(["paste", "s", "{tmp}"], 2, "Is a directory"),
        Row(["paste", "s", "{tmp}/missing"], 2, "No such file"),
    ],
    ("run", "command"): [
        Row(["run", "s"], 2, "COMMAND is missing"),
        Row(["run", "s", ""], 2, "run needs a command"),
        Row(["run", "s", " \n"], 2, "run needs a command"),
    ],
    ("events", "names"): [
        Row(["events", ""], 2, "must not be empty"),
        Row(["events", BIG], 2, "too long"),
    ],
    ("kill", "names"): [
        Row(["kill"], 2, "--all"),
        Row(["kill", ""], 2, "must not be empty"),
        Row(["kill", BIG], 2, "too long"),
        Row(["kill", "s", "--all"], 2, "not both"),
    ],
    ("skill", "action"): [
        Row(["skill"], 2, "install is missing"),
        Row(["skill", ""], 2, "unknown skill action"),
        Row(["skill", "remove"], 2, "unknown skill action"),
    ],
    ("skill", "dir"): [
        Row(["skill", "install", ""], 2, "directory is empty"),
        Row(["skill", "install", "{tmp}/" + "x" * 300], 2, "File name too long"),
        Row(["skill", "install", "{file}"], 2, "cannot install"),
    ],
}
for _verb in VERBS.values():
    if any(dest == "name" for dest, _, _ in _verb.positionals):
        before, after = _context(_verb.name)
        after = [*after, "--exit"] if _verb.name == "wait" else after  # wait wants a condition
        rows = [
            Row([_verb.name, value, *before[1:], *after], code, text)
            for _, value, code, text in NAME_ROWS
        ]
        rows.append(Row([_verb.name], 2, "NAME is missing"))
        POSITIONALS.setdefault((_verb.name, "name"), []).extend(rows)
for _verb in VERBS.values():  # text where none is wanted
    POSITIONALS.setdefault((_verb.name, "extra"), []).append(
        Row([_verb.name, "--bogus"], 2, "unknown option")
    )

#: Options that go together badly.
COMBINATIONS = [
    Row(["wait", "s"], 2, "exactly one"),
    Row(["wait", "s", "--text", "x", "--idle", "1"], 2, "exactly one"),
    Row(["wait", "s", "--idle", "5", "--timeout", "1"], 2, "shorter than"),
    Row(["capture", "s", "--lines", "3", "--all"], 2, "not both"),
    Row(["record", "s", "--cast", "x", "--stop"], 2, "not both"),
    Row(["read", "s", "--max-chars", "99"], 2, "at least 100"),
]
#: Rows that need a session (the value is fine to parse; the session decides).
SESSION_ROWS = [
    Row(["record", "s", "--cast", "{tmp}"], 2, "cannot write", session=True),
    Row(["record", "s", "--cast", "{tmp}/" + "x" * 300], 2, "cannot write", session=True),
    Row(["record", "s", "--stop"], 3, "not being recorded", session=True),
    Row(["run", "s", "true"], 2, "does not run the tmuxagent shell", session=True),
    Row(["attach", "s"], 2, "needs a terminal", session=True),
    Row(["start", "s", "--", "true"], 3, "already exists", session=True),
]


def all_rows() -> list[Row]:
    rows = []
    for (verb, option), values in OPTIONS.items():
        rows += _option_rows(verb, option, values)
    for found in POSITIONALS.values():
        rows += found
    return rows + COMBINATIONS + SESSION_ROWS


def _row_id(row: Row) -> str:
    words = " ".join(w if len(w) < 20 else f"{w[:8]}…({len(w)})" for w in row.argv)
    return words.encode("unicode_escape").decode() or "(nothing)"


ROWS = all_rows()


def call(
    argv: list[str], socket: Path | None, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """``tmuxagent [-S SOCKET] ARGV`` in this process: its exit code and stderr."""
    own = socket is None or (argv and argv[0].startswith("-"))  # its own global options
    full = argv if own else ["-S", str(socket), *argv]
    capsys.readouterr()
    code = main(full)
    return code, capsys.readouterr().err


def fill(argv: list[str], tmp: Path) -> list[str]:
    (tmp / "file").write_text("some text\n")
    return [w.replace("{tmp}", str(tmp)).replace("{file}", str(tmp / "file")) for w in argv]


def check(row: Row, code: int, err: str) -> None:
    assert code == row.code, (row.argv[:6], code, err)
    assert "Traceback" not in err
    if row.code:
        assert err.count("\n") == 1 and err.endswith("\n"), err
        assert len(err) < 600, err  # one readable line, even for a 5000-digit value
        assert row.text in err, (row.text, err)
    else:
        assert err == ""


@pytest.fixture
def private(tmp_path: Path) -> Iterator[Path]:
    """A private directory; a server that a row started there by mistake is ended."""
    tmp_path.chmod(0o700)
    yield tmp_path
    for path in tmp_path.iterdir():
        if path.is_socket():
            tmuxagent.Server(path).kill_all()


@pytest.mark.parametrize("row", [r for r in ROWS if not r.session], ids=_row_id)
def test_bad_input(row: Row, private: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = call(fill(row.argv, private), private / "no-server", capsys)
    check(row, code, err)


@pytest.mark.parametrize("row", [r for r in ROWS if r.session], ids=_row_id)
def test_bad_input_to_a_session(
    row: Row, ta: tmuxagent.Server, private: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ta.start("s", ["cat"])
    code, err = call(fill(row.argv, private), ta.socket_path, capsys)
    check(row, code, err)


def test_every_option_and_positional_has_rows() -> None:
    wanted = {("-", o.name) for o in GLOBAL_OPTIONS}
    wanted |= {(v.name, o) for v in VERBS.values() for o in v.options}
    assert set(OPTIONS) == wanted, "give each option rows in OPTIONS"
    positionals = {(v.name, dest) for v in VERBS.values() for dest, _, _ in v.positionals}
    assert positionals <= set(POSITIONALS), "give each positional rows in POSITIONALS"
    assert {verb for verb, _ in POSITIONALS} == set(VERBS)


# -- closed stdin and stdout -----------------------------------------------------


@pytest.mark.parametrize("verb", [v for v in VERBS.values() if v.output], ids=lambda v: v.name)
def test_a_closed_stdout_refuses_verbs_that_print(
    verb: _cli_io.Verb,
    private: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_cli_io, "_CLOSED", {1})
    before, after = _context(verb.name)
    code, err = call(fill([verb.name, *before, *after], private), private / "none", capsys)
    check(Row([], 2, "standard output is closed"), code, err)


def test_record_cast_to_a_closed_stdout(
    private: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cli_io, "_CLOSED", {1})
    code, err = call(["record", "s", "--cast", "-"], private / "none", capsys)
    check(Row([], 2, "standard output is closed"), code, err)


def shell(cli: CLI, snippet: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``tmuxagent -S SOCKET ARGS`` as the shell ``snippet`` runs it (``"$@"``)."""
    command = [sys.executable, "-m", "tmuxagent", "-S", str(cli.socket), *args]
    return subprocess.run(
        ["sh", "-c", snippet, "sh", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_paste_from_a_closed_stdin(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("s", ["cat"])
    for args in (["paste", "s"], ["paste", "s", "-"]):
        proc = shell(cli, '"$@" <&-', *args)
        check(
            Row([], 2, "standard input is closed: nothing was pasted"), proc.returncode, proc.stderr
        )
    proc = shell(cli, '"$@" >&-', "capture", "s")  # the same for stdout, in a real process
    check(Row([], 2, "standard output is closed"), proc.returncode, proc.stderr)
    assert shell(cli, '"$@" </dev/null', "paste", "s").returncode == 0  # empty is not closed
    assert session.status().alive


# -- the socket ------------------------------------------------------------------


def test_an_empty_socket_variable_means_the_default(
    private: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUXAGENT_SOCKET", "")
    monkeypatch.setenv("TMUXAGENT_SOCKET_DIR", str(private / "agents"))
    assert tmuxagent.default_socket() == str(private / "agents" / "default")
    assert call(["list"], None, capsys) == (0, "")
    with pytest.raises(tmuxagent.UsageError, match="socket path is empty"):
        tmuxagent.Server("")


# -- record --stop ---------------------------------------------------------------


def test_record_stop_says_when_nothing_is_recorded(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("s", ["cat"])
    proc = cli("record", "s", "--stop")
    check(Row([], 3, "is not being recorded (none was started)"), proc.returncode, proc.stderr)
    cli.ok("record", "s")
    cli.ok("record", "s", "--stop")
    proc = cli("record", "s", "--stop")
    check(
        Row([], 3, "is not being recorded (it was stopped already)"), proc.returncode, proc.stderr
    )


# -- start: a directory that cannot be entered, a program that cannot run ---------


def test_a_directory_without_search_permission(
    private: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = private / "locked"
    locked.mkdir(mode=0o600)
    real_access = os.access
    if os.geteuid() == 0:  # root enters it anyway: make the check see what a user would
        monkeypatch.setattr(
            os,
            "access",
            lambda p, mode: mode != os.X_OK if p == str(locked) else real_access(p, mode),
        )
    code, err = call(["start", "n", "--cwd", str(locked), "--", "true"], private / "none", capsys)
    check(Row([], 2, "cannot be entered: no search (x) permission"), code, err)


def _programs(tmp: Path) -> Iterator[tuple[str, str]]:
    """Programs that exec cannot run, and what start says of each."""
    script = tmp / "bad.sh"
    script.write_text("#!/nonexistent/interp\necho hi\n")
    script.chmod(0o700)
    yield "./bad.sh", "the interpreter on its #! line, '/nonexistent/interp', does not exist"
    dos = tmp / "dos.sh"
    dos.write_bytes(b"#!/bin/sh\r\necho hi\r\n")  # '/bin/sh\r' does not exist; /bin/sh does
    dos.chmod(0o700)
    yield "./dos.sh", "its #! line ends in a DOS line break"
    blob = tmp / "blob"
    blob.write_bytes(bytes(range(256)) * 4)
    blob.chmod(0o700)
    yield "./blob", "Exec format error"
    plain = tmp / "plain.sh"
    plain.write_text("echo hi\n")
    plain.chmod(0o600)
    yield "./plain.sh", "it is not executable"
    (tmp / "dir").mkdir()
    yield "./dir", "it is a directory"


def test_a_program_that_cannot_run(ta: tmuxagent.Server, cli: CLI, private: Path) -> None:
    ta.start("other", ["cat"])  # the server stays up: the failed session alone goes
    for program, reason in _programs(private):
        proc = cli("start", "bad", "--", program, cwd=private)
        check(Row([], 3, f"cannot run {program!r}: {reason}"), proc.returncode, proc.stderr)
        assert [i.name for i in ta.sessions()] == ["other"], program  # nothing left running
        assert len(list(ta.state_root.iterdir())) == 1
    ta.session("other").kill()
    proc = cli("start", "bad", "--", "./bad.sh", cwd=private)  # the last session: same
    assert proc.returncode == 3 and ta.sessions() == []
    cli.ok("start", "bad", "--", "true")  # the name is free


# -- a server that stops, or hangs, under a verb ------------------------------------


def _server_pid(ta: tmuxagent.Server) -> int:
    return int(ta.host.tmux(["display", "-p", "#{pid}"]))


def _stop_server(ta: tmuxagent.Server) -> None:
    pid = _server_pid(ta)
    subprocess.run(["tmux", "-S", str(ta.socket_path), "kill-server"], check=False)
    wait_until(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), what="the server gone")


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


#: (argv, the exit code when the server stops after the verb's first tmux call).
MID_CALL = [
    (["send", "s", "x"], 4),
    (["keys", "s", "Enter"], 4),
    (["paste", "s", "{file}"], 4),
    (["capture", "s"], 4),
    (["wait", "s", "--text", "never", "--timeout", "20"], 4),
    (["wait", "s", "--exit", "--timeout", "20"], 4),
    (["wait", "s", "--idle", "5", "--timeout", "20"], 4),
    (["wait", "sh", "--prompt", "--timeout", "20"], 4),
    (["run", "sh", "--timeout", "20", "sleep 30"], 4),
    (["status", "s", "--json"], 4),
    (["record", "s"], 4),
    (["record", "s", "--cast", "{tmp}/s.cast"], 4),
    (["start", "new", "--", "cat"], 4),
    # Done with tmux before it stopped: what they did stands.
    (["read", "s"], 0),
    (["status", "s"], 0),
    (["attach", "s", "--print"], 0),
    (["list"], 0),
    (["kill", "s"], 0),  # the session is gone either way
]


@pytest.mark.parametrize(("argv", "code"), MID_CALL, ids=[" ".join(a) for a, _ in MID_CALL])
def test_the_server_stops_mid_call(
    argv: list[str],
    code: int,
    ta: tmuxagent.Server,
    private: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if "sh" in argv:
        shell = ta.start("sh")
        if "--prompt" in argv:
            shell.send("sleep 30", enter=True)  # busy: the prompt is awaited
    else:
        ta.start("s", ["cat"])
    real = LocalHost.tmux
    calls = 0

    def tmux(self: LocalHost, *commands: list[str], **kw: object) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:  # after the verb's first call
            _stop_server(ta)
        return real(self, *commands, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalHost, "tmux", tmux)
    got, err = call(fill(argv, private), ta.socket_path, capsys)
    if code:
        check(Row([], code, "has stopped (it answered earlier)"), got, err)
    else:
        assert (got, "Traceback" in err) == (0, False), err


def _waiting(proc: subprocess.Popen[str]) -> bool:
    """Whether the CLI process ``proc`` follows a session's log (its wait is under way)."""
    fds = Path(f"/proc/{proc.pid}/fd")
    try:
        return any(os.readlink(fd).endswith("/output.log") for fd in fds.iterdir())
    except OSError:
        return False


def _wait_in_background(ta: tmuxagent.Server, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tmuxagent", "-S", str(ta.socket_path), "wait", *args]
    waiter = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: _waiting(waiter) or waiter.poll() is not None, what="the wait under way")
    return waiter


def test_a_wait_sees_the_server_killed(ta: tmuxagent.Server) -> None:
    ta.start("s", ["cat"])
    waiter = _wait_in_background(ta, "s", "--text", "never")
    subprocess.run(["tmux", "-S", str(ta.socket_path), "kill-server"], check=True)
    _, err = waiter.communicate(timeout=30)
    check(Row([], 4, "has stopped (it answered earlier)"), waiter.returncode, err)


def test_a_killed_session_is_not_a_stopped_server(ta: tmuxagent.Server) -> None:
    session = ta.start("s", ["cat"])
    waiter = _wait_in_background(ta, "s", "--text", "never")
    session.kill()  # the last session: the server ends with it
    _, err = waiter.communicate(timeout=30)
    check(Row([], 3, "no session named 's'"), waiter.returncode, err)


@pytest.fixture
def frozen(ta: tmuxagent.Server) -> Iterator[tmuxagent.Server]:
    """A server with a session "s" (cat) and an agent shell "sh", then SIGSTOPped."""
    ta.start("s", ["cat"])
    ta.start("sh")
    pid = _server_pid(ta)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield ta
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.mark.parametrize(
    "argv",
    [
        ["wait", "s", "--text", "X", "--timeout", "2"],
        ["wait", "s", "--exit", "--timeout", "2"],
        ["wait", "s", "--idle", "1", "--timeout", "2"],
        ["wait", "sh", "--prompt", "--timeout", "2"],
        ["run", "sh", "--timeout", "2", "true"],
    ],
    ids=" ".join,
)
def test_a_hung_server_cannot_outlast_the_timeout(
    argv: list[str], frozen: tmuxagent.Server, cli: CLI
) -> None:
    started = time.monotonic()
    proc = cli(*argv)
    took = time.monotonic() - started
    check(Row([], 4, "tmux did not answer within 2s"), proc.returncode, proc.stderr)
    assert took < 8, took  # each tmux call alone may take 10 s
