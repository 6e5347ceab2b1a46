"""The CLI's contract: verbs, one-line errors, exit codes; names and keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, prog
from tmuxagent._names import decode_name, encode_name
from tmuxagent.keys import validate_key


def test_help_and_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tmuxagent", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for verb in ("start", "send", "keys", "paste", "capture", "read", "wait", "run", "status",
                 "list", "kill", "attach", "demo", "skill"):  # fmt: skip
        assert verb in out
    assert "exit codes" in out
    version = subprocess.run(
        [sys.executable, "-m", "tmuxagent", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert version.strip() == f"tmuxagent {tmuxagent.__version__}"


def test_usage_errors_are_one_line(cli: CLI) -> None:
    for args in (["send"], ["wait", "x"], ["wait", "x", "--text", "a", "--exit"], ["keys", "x"]):
        proc = cli(*args)
        assert proc.returncode == 2, args
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert "Traceback" not in proc.stderr


def test_exit_code_table(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("repl", prog("fake_repl.py")).wait_text("fake> $")
    assert cli("send", "repl", "x").returncode == 0
    assert cli("wait", "repl", "--text", "nope", "--timeout", "0.2").returncode == 1
    assert cli("keys", "repl", "Nope").returncode == 2
    assert cli("send", "ghost", "x").returncode == 3
    proc = cli("list", env={"PATH": "/nonexistent"})
    assert proc.returncode == 4 and "tmux" in proc.stderr and "install" in proc.stderr


def test_timeout_names_condition_and_screen(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("repl", prog("fake_repl.py")).wait_text("fake> $")
    proc = cli("run", "repl", "x")
    assert proc.returncode == 2
    proc = cli("wait", "repl", "--idle", "5", "--timeout", "0.5")
    assert proc.returncode == 2 and "shorter than the idle period" in proc.stderr


def test_send_joins_words(ta: tmuxagent.Server, cli: CLI) -> None:
    repl = ta.start("repl", prog("fake_repl.py"))
    repl.wait_text("fake> $")
    cli.ok("send", "repl", "--enter", "echo", "two", "words")
    repl.wait_text("^two words$")
    proc = cli("send", "repl", "echo", "-x")
    assert proc.returncode == 2 and "put it after --" in proc.stderr


def test_status_json_of_missing(cli: CLI) -> None:
    proc = cli("status", "ghost", "--json")
    assert proc.returncode == 3 and proc.stdout == ""


def test_list_json_empty(cli: CLI) -> None:
    assert json.loads(cli.ok("list", "--json")) == []


@pytest.mark.parametrize(
    "name", ["plain", "a.b", "c:d", "50%", "#x", "\\", "$0", "@1", "=", "-x", "日本", "a b"]
)
def test_name_encoding_round_trip(name: str) -> None:
    encoded = encode_name(name)
    assert not set(".:#\\") & set(encoded)
    assert encoded[0] not in "$@=-"
    assert decode_name(encoded) == name


@pytest.mark.parametrize("encoded", ["ab%A", "ab%", "%", "%4g", "% 1", "%+1", "100%"])
def test_decode_keeps_a_percent_that_is_no_escape(encoded: str) -> None:
    assert decode_name(encoded) == encoded


ACCEPTED = {
    "Enter": b"\r", "enter": b"\r", "C-c": b"\x03", "c-C": b"\x03", "^C": b"\x03",
    "M-x": b"\x1bx", "M-X": b"\x1bX", "BTab": b"\x1b[Z", "S-Up": b"\x1b[1;2A",
    "C-Up": b"\x1b[1;5A", "C-M-Left": b"\x1b[1;7D", "S-F5": b"\x1b[15;2~", "PgUp": b"\x1b[5~",
    "F12": b"\x1b[24~", "y": b"y", ";": b";", "BSpace": b"\x7f", "KP5": b"5",
    "C-Space": b"\x00", "C-@": b"\x00", "C-[": b"\x1b", "C-?": b"\x7f", "M-Enter": b"\x1b\r",
    "S-Delete": b"\x1b[3;2~", "M-;": b"\x1b;", "Escape": b"\x1b", "M-BTab": b"\x1b\x1b[Z",
}  # fmt: skip
REFUSED = ["Entr", "F13", "C-", "hello", "", "C-Nope", "Enter Enter", "S-Tab", "S-a",
           "S-Enter", "C-Enter", "C-Tab", "C-1", "C-;", "C-~", "M-S-Tab", "S-KP5",
           "C-BSpace", "C-Escape"]  # fmt: skip


def test_every_accepted_key_reaches_the_program(ta: tmuxagent.Server, tmp_path: Path) -> None:
    """What validate_key lets through, tmux sends as that key (not as text, not nothing)."""
    out = tmp_path / "keys.bin"
    for key, expected in ACCEPTED.items():
        session = ta.start("raw", prog("raw_reader.py", str(out)))
        session.wait_text("ready")
        session.keys(key)
        session.keys("C-]")
        session.wait_text("GOT")
        assert out.read_bytes() == expected, key
        session.kill()


@pytest.mark.parametrize("key", REFUSED)
def test_invalid_keys(key: str) -> None:
    with pytest.raises(tmuxagent.UsageError):
        validate_key(key)


def test_keys_must_be_strings(ta: tmuxagent.Server) -> None:
    ta.start("any", ["sleep", "30"])
    with pytest.raises(tmuxagent.UsageError, match="a key is a string"):
        ta.session("any").keys(["Enter"])  # type: ignore[arg-type]


def test_public_api() -> None:
    assert set(tmuxagent.__all__) >= {"Server", "Session", "spawn", "WaitTimeout"}
    for name in tmuxagent.__all__:
        assert getattr(tmuxagent, name) is not None


def test_console_script_with_no_server(tmp_path: Path) -> None:
    """The installed 'tmuxagent' command on a socket with no server behind it.

    Its process is named 'tmuxagent' and carries the socket path: the code
    that revives a server whose socket file was deleted once mistook it for
    the tmux server and signalled it.
    """
    script = Path(sys.executable).parent / "tmuxagent"
    socket = tmp_path / "fresh.sock"
    for argv in (["list"], ["status", "x"], ["list", "--json"]):
        proc = subprocess.run(
            [str(script), "-S", str(socket), *argv], capture_output=True, text=True,
            check=False, timeout=30,
        )  # fmt: skip
        assert proc.returncode in (0, 3), (argv, proc.returncode, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_hints_quote_names(ta: tmuxagent.Server, cli: CLI) -> None:
    proc = cli("send", "bad name", "x")
    assert proc.returncode == 3
    assert "'tmuxagent start '\"'\"'bad name'\"'\"''" not in proc.stderr
    assert "tmuxagent start 'bad name'" in proc.stderr


def test_start_name_with_dash(ta: tmuxagent.Server, cli: CLI) -> None:
    cli.ok("start", "--", "-weird", "--", "sleep", "30")
    assert ta.session("-weird").status().command == "sleep 30"
    cli.ok("start", "--", "-shell")
    assert ta.session("-shell").status().shell


def test_negative_timeouts_are_refused(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("sh")
    for args in (["wait", "sh", "--text", "x", "--timeout", "-1"],
                 ["run", "sh", "--timeout", "-1", "true"],
                 ["wait", "sh", "--exit", "--timeout", "-5"]):  # fmt: skip
        proc = cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "--timeout wants a number from 0 up" in proc.stderr
    for value in ("nan", "inf"):
        assert cli("wait", "sh", "--idle", value).returncode == 2
        assert cli("--tmux-timeout", value, "list").returncode == 2
    with pytest.raises(tmuxagent.UsageError, match="timeout must be"):
        ta.session("sh").wait_text("x", timeout=-1)
    with pytest.raises(tmuxagent.UsageError, match="idle period"):
        ta.session("sh").wait_idle(float("nan"))


#: What an agent's step must not pay for: each costs more to import than a tmux round trip.
HEAVY = {"argparse", "typing", "dataclasses", "subprocess", "textual", "libtmux", "pexpect",
         "json", "pathlib", "asyncio"}  # fmt: skip


@pytest.mark.parametrize(
    "verb",
    [
        ["capture", "py"],
        ["send", "py", "1"],
        ["keys", "py", "BSpace"],
        ["read", "py"],
        ["wait", "py", "--text", ">>>", "--timeout", "5"],
    ],
    ids=lambda v: v[0],
)
def test_hot_verbs_import_nothing_heavy(cli: CLI, verb: list[str]) -> None:
    cli.ok("start", "py", "--", sys.executable, "-q")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tmuxagent", "-S", str(cli.socket), *verb],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "tmuxagent" in imported  # the measurement works
    assert not HEAVY & imported


def test_output_to_a_closed_pipe_or_a_full_disk(cli: CLI) -> None:
    cli.ok("start", "py", "--", sys.executable, "-q")
    base = [sys.executable, "-m", "tmuxagent", "-S", str(cli.socket)]
    for verb in (["--help"], ["capture", "py", "--all"], ["list", "--json"]):
        proc = subprocess.Popen([*base, *verb], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader has gone, as with '| head -0'
        errors = proc.stderr.read()
        proc.stderr.close()
        assert (proc.wait(timeout=60), errors) == (0, b"")
    with open("/dev/full", "wb") as full:
        proc2 = subprocess.run([*base, "list", "--json"], stdout=full, stderr=subprocess.PIPE,
                               text=True, timeout=60, check=False)  # fmt: skip
    assert proc2.returncode == 4
    assert proc2.stderr.count("\n") == 1 and "No space left" in proc2.stderr


def test_plain_reads_concatenate_to_the_output(ta: tmuxagent.Server, cli: CLI) -> None:
    """A read that ends mid-line adds no line break: reads put together are
    the program's output (issue 9, item 2)."""
    session = ta.start("p", ["sh", "-c", "printf abc; read x; printf 'def\\n'; exec sleep 30"])
    session.wait_text("abc")
    first = cli.ok("read", "p")
    assert first == "abc"
    session.send("x", enter=True)
    session.wait_text("def")
    second = cli.ok("read", "p")
    assert first + second == "abcx\ndef\n"  # the echo of 'x', then Enter
    assert cli.ok("read", "p") == ""


def test_the_demos_hints_name_its_server(cli: CLI, ta: tmuxagent.Server) -> None:
    """Run with -S, the demo's hints carry it: as printed they reach its session."""
    out = cli.ok("demo", timeout=120)
    kill = next(line for line in out.splitlines() if "kill demo" in line).split("#")[0]
    assert f"-S {cli.socket}" in kill
    subprocess.run(["bash", "-c", kill], check=True, timeout=60)
    assert "demo" not in [s.name for s in ta.sessions()]


def test_kill_a_name_given_twice(cli: CLI, ta: tmuxagent.Server) -> None:
    ta.start("c", ["cat"])
    proc = cli("kill", "c", "c")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert ta.sessions() == []
