"""Input arrives exactly: send, keys and paste, from the API and the CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

import libtmux
import pytest

import tmuxagent
from tests.conftest import CLI, finish_raw, prog, raw_session, wait_until
from tmuxagent._input import Sent

TRICKY = [
    "echo hi;",  # tmux eats a trailing ';' (even with send-keys -l)
    ";",
    "a\\;",
    "  leading and trailing spaces  ",
    "tab\there",
    "Enter",  # looks like a key name
    "C-c",
    "--help",  # looks like an option
    "-t x",
    "'single' \"double\" `back` $HOME !! \\n",
    "ünïcødé 日本語 🎉",
    "#{session_name} #S ##",  # looks like a tmux format
    "\x1b[A not a key",  # control characters arrive as they are
]


@pytest.mark.parametrize("text", TRICKY)
def test_send_is_literal(ta: tmuxagent.Server, tmp_path: Path, text: str) -> None:
    session, out = raw_session(ta, tmp_path)
    session.send(text)
    assert finish_raw(session, out) == text.encode()


def test_send_over_tmux_command_limit(ta: tmuxagent.Server, tmp_path: Path) -> None:
    # tmux refuses one command line of about 16 KB ("command too long").
    text = "".join(f"{i:05d};" for i in range(6000))  # 36 KB, ';' everywhere
    session, out = raw_session(ta, tmp_path)
    session.send(text)
    assert finish_raw(session, out) == text.encode()


def test_send_enter_submits_in_shell(shell: tmuxagent.Session) -> None:
    shell.send("echo one; echo two;", enter=True)
    shell.wait_text(r"^two$")


def test_cli_send_tricky_text(cli: CLI, ta: tmuxagent.Server, tmp_path: Path) -> None:
    session, out = raw_session(ta, tmp_path)
    for text in ("ls;", "Enter", " x "):
        cli.ok("send", "raw", "--", text)
    cli.ok("send", "raw", "--", "--enter")
    assert finish_raw(session, out) == b"ls;Enter x --enter"


def test_cli_send_enter(cli: CLI, ta: tmuxagent.Server, tmp_path: Path) -> None:
    session, out = raw_session(ta, tmp_path)
    cli.ok("send", "raw", "--enter", "hello;")
    assert finish_raw(session, out) == b"hello;\r"


def test_keys(ta: tmuxagent.Server, tmp_path: Path) -> None:
    session, out = raw_session(ta, tmp_path)
    session.keys("Escape", "Up", "Enter", "C-c", "M-x", "Tab", "BSpace", "y", ";", "F5")
    assert finish_raw(session, out) == b"\x1b\x1b[A\r\x03\x1bx\t\x7fy;\x1b[15~"


def test_bad_key_sends_nothing(ta: tmuxagent.Server, tmp_path: Path, cli: CLI) -> None:
    session, out = raw_session(ta, tmp_path)
    with pytest.raises(tmuxagent.UsageError, match="cannot send 'Entr'"):
        session.keys("a", "Entr")
    proc = cli("keys", "raw", "b", "NotAKey")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "NotAKey" in proc.stderr
    assert finish_raw(session, out) == b""


def test_paste_100kb_arrives_whole(ta: tmuxagent.Server, tmp_path: Path) -> None:
    # Lines stay under the kernel's 4095-byte canonical line limit.
    text = "".join(f"line {i:06d} {'x' * (i % 90)};\n" for i in range(2500))
    assert len(text) > 100_000
    out = tmp_path / "pasted.txt"
    code = (
        f"import signal, sys; open({str(out)!r}, 'w').write(sys.stdin.read()); "
        "print('SAVED', flush=True); signal.pause()"
    )
    session = ta.start("cat", ["python3", "-c", code])
    session.paste(text)
    session.keys("C-d")
    session.wait_text("^SAVED$", timeout=60)
    got = out.read_text()
    assert hashlib.sha256(got.encode()).hexdigest() == hashlib.sha256(text.encode()).hexdigest()


def test_paste_is_bracketed_when_asked(ta: tmuxagent.Server, tmp_path: Path) -> None:
    plain, plain_out = raw_session(ta, tmp_path, "plain")
    plain.paste("a\nb")
    assert finish_raw(plain, plain_out) == b"a\rb"  # as a terminal pastes
    editor, editor_out = raw_session(ta, tmp_path, "editor", "--bracketed")
    editor.paste("a\nb")
    assert finish_raw(editor, editor_out) == b"\x1b[200~a\rb\x1b[201~"


def test_paste_runs_a_block_in_the_shell(shell: tmuxagent.Session) -> None:
    shell.paste("for i in 1 2; do\n  echo item-$i\ndone", enter=True)
    shell.wait_text("^item-2$")
    assert shell.run("echo $?").output == "0"


def test_cli_paste_file_and_stdin(cli: CLI, ta: tmuxagent.Server, tmp_path: Path) -> None:
    shell = ta.start("sh")
    script = tmp_path / "block.sh"
    script.write_text("for i in 1 2 3; do\n  echo item-$i\ndone\n")
    cli.ok("paste", "sh", str(script), "--enter")
    shell.wait_text("^item-3$")
    cli.ok("paste", "sh", "--enter", input="echo from-stdin\n")
    shell.wait_text("^from-stdin$")
    proc = cli("paste", "sh", str(tmp_path / "missing.txt"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_enter_after_text_reaches_a_tui(ta: tmuxagent.Server, server: libtmux.Server) -> None:
    """A TUI that ignores an Enter arriving in the same burst as text."""
    trap = ta.start("trap", prog("burst_tui.py"))
    trap.wait_text("ready")
    # The trap, shown with plain tmux: text and Enter in one burst.
    server.cmd("send-keys", "-t", "=trap:", "burst", "Enter")
    wait_until(lambda: "burst" in trap.capture().text, what="the echo of 'burst'")
    assert "SUBMITTED" not in trap.capture().text
    # tmuxagent lets the text land before it presses Enter.
    tui = ta.start("tui", prog("burst_tui.py"))
    tui.wait_text("ready")
    # It has read the text when Enter comes, so it gets it alone: no retry.
    assert tui.send("hello tui", enter=True) == Sent(enter=True, retried=False)
    tui.wait_text(r"^SUBMITTED: hello tui$")
    assert not tui.paste("pasted text", enter=True).retried
    tui.wait_text(r"^SUBMITTED: pasted text$")


def test_send_to_exited_program(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("gone", prog("exit_with.py", "3"))
    assert session.wait_exit() == 3
    with pytest.raises(tmuxagent.ProgramExited, match="exit status 3"):
        session.send("hello")
    proc = cli("send", "gone", "hello")
    assert proc.returncode == 3
    assert "has exited (exit status 3)" in proc.stderr


def test_enter_retry_can_be_turned_off(ta: tmuxagent.Server, cli: CLI) -> None:
    """A program that echoes text but stays silent on Enter gets it once with --no-retry."""
    code = (
        "import os, sys, tty\n"
        "tty.setraw(0)\n"
        "print('ready', end='\\r\\n', flush=True)\n"
        "seen = b''\n"
        "while b'\\x1d' not in seen:\n"
        "    chunk = os.read(0, 100)\n"
        "    seen += chunk\n"
        "    if chunk != b'\\r':\n"
        "        os.write(1, chunk.replace(b'\\x1d', b''))\n"
        "print('\\r\\nGOT', repr(seen), flush=True)\n"
    )
    silent = ta.start("silent", ["python3", "-c", code])
    silent.wait_text("ready")
    cli.ok("send", "silent", "--enter", "--no-retry", "submit this")
    silent.keys("C-]")
    silent.wait_text("GOT")
    assert "b'submit this\\r\\x1d'" in silent.capture().text


def test_a_crlf_file_is_pasted_with_one_line_break_per_line(
    ta: tmuxagent.Server, cli: CLI, tmp_path: Path
) -> None:
    """Issue 9, item 10: each CRLF pair used to become two Enters."""
    session = ta.start(
        "lines", ["sh", "-c", 'echo ready; while IFS= read -r l; do echo "got[$l]"; done']
    )
    session.wait_text("^ready$")
    crlf = tmp_path / "dos.txt"
    crlf.write_bytes(b"one\r\ntwo\r\nthree\r\n")
    cli.ok("paste", "lines", str(crlf))
    session.wait_text(r"^got\[three\]$")
    got = [line for line in session.transcript().splitlines() if line.startswith("got[")]
    assert got == ["got[one]", "got[two]", "got[three]"]
