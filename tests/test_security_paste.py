"""A pasted file cannot break out of the bracketed paste (issue 8, item 3).

Pasted text is bracketed (``ESC[200~ ... ESC[201~``) when the program asked
for it, and the program then takes it as text: nothing runs until Enter. The
text must not be able to end the paste itself (``ESC[201~``), nor make the
tty interrupt the program mid-paste (C-c, C-\\, C-z), after which the rest
would arrive as typed keys. ``send`` stays literal.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, finish_raw, raw_session, wait_until

#: Files that try to run ``touch PWNED`` in the agent shell while pasted with
#: no Enter: they end the paste, erase the line (C-u) and press Enter (CR or
#: LF), or have the tty interrupt readline mid-paste.
ATTACKS = {
    "end-then-cr": "echo safe\x1b[201~\x15touch PWNED\r",
    "end-then-lf": "echo safe\x1b[201~\x15touch PWNED\n",
    "end-from-pieces": "echo safe\x1b[20\x1b[201~1~\x15touch PWNED\r",
    "ctrl-c": "echo safe\x03  touch PWNED\r",
    "ctrl-z": "echo safe\x1a  touch PWNED\r",
    "ctrl-backslash": "echo safe\x1c  touch PWNED\r",
}


def landed_and_nothing_ran(shell: tmuxagent.Session, workdir: Path) -> None:
    """Once the paste shows, nothing it held has run, and the shell still works."""
    wait_until(lambda: "PWNED" in shell.capture().text, what="the pasted text on screen")
    shell.keys("C-c")
    shell.wait_prompt(timeout=10)
    # The shell runs one command at a time: anything the paste submitted has
    # finished before this one prints.
    assert shell.run("echo ok").output == "ok"
    assert not list(workdir.glob("PWNED*")), "the pasted file ran a command"
    assert "safe" not in [line.strip() for line in shell.capture().lines], "'echo safe' ran"


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_cli_paste_cannot_run_a_command(
    ta: tmuxagent.Server, cli: CLI, tmp_path: Path, attack: str
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    shell = ta.start("sh", cwd=workdir)
    evil = tmp_path / "evil.txt"
    evil.write_bytes(attack.encode())
    cli.ok("paste", "sh", str(evil))  # no --enter
    landed_and_nothing_ran(shell, workdir)


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_api_paste_cannot_run_a_command(ta: tmuxagent.Server, tmp_path: Path, attack: str) -> None:
    shell = ta.start("sh", cwd=tmp_path)
    shell.paste(attack)
    landed_and_nothing_ran(shell, tmp_path)


@pytest.mark.parametrize("tail", ["", "\r"], ids=["no-enter", "cr"])
def test_run_cannot_smuggle_a_command(ta: tmuxagent.Server, tmp_path: Path, tail: str) -> None:
    """``run`` pastes its command: the end sequence in it cannot swap the command."""
    shell = ta.start("sh", cwd=tmp_path)
    result = shell.run(f"echo safe\x1b[201~\x15touch PWNED{tail}", timeout=20)
    assert not list(tmp_path.glob("PWNED*")), "run ran a smuggled command"
    assert result.exit_code == 0
    # echo ran, with all the rest as its words (C-u is text inside the paste)
    assert result.output.splitlines()[-1] == "safetouch PWNED"
    assert shell.run("echo ok").output == "ok"


#: Every way to end or escape a paste, as a program receives it.
NASTY = (
    "a\x1b[201~b"  # the end of the paste: removed
    "\x1b[20\x1b[201~1~c"  # one that its removal assembles: its ESC becomes a space
    "\x9b201~d\udc9b200~e"  # 8-bit CSI (as a character, as a raw byte): removed
    "\x1b[A\x03\x1c\x1a\x13\x11f"  # ESC and what the tty acts on: spaces
    "\tg\x15\x04\x7f\x00h\nend"  # the rest arrives as it is
)
NASTY_PASTED = b"ab [201~cde [A     f\tg\x15\x04\x7f\x00h\rend"


def test_paste_bytes_the_program_gets(ta: tmuxagent.Server, tmp_path: Path) -> None:
    editor, editor_out = raw_session(ta, tmp_path, "editor", "--bracketed")
    editor.paste(NASTY)
    assert finish_raw(editor, editor_out) == b"\x1b[200~" + NASTY_PASTED + b"\x1b[201~"
    # A program that did not ask for bracketed paste gets the same text, as typed.
    plain, plain_out = raw_session(ta, tmp_path, "plain")
    plain.paste(NASTY)
    assert finish_raw(plain, plain_out) == NASTY_PASTED


def test_neutralising_is_linear_and_free_for_plain_text() -> None:
    from tmuxagent._input import neutralise_paste

    text = "x = 1\n" * 700_000  # 4 MB without a control character: returned as is
    assert neutralise_paste(text) is text
    nested = "\x1b[20" * 100_000 + "\x1b[201~" + "1~" * 100_000  # no loop to a fixed point
    assert "\x1b" not in neutralise_paste(nested)


def test_send_stays_literal(ta: tmuxagent.Server, tmp_path: Path, cli: CLI) -> None:
    """``send`` types what it is given, even to a program that wants pastes bracketed."""
    text = "a\x1b[201~\x15b\x03c\x1b[200~d\x1a"
    session, out = raw_session(ta, tmp_path, "raw", "--bracketed")
    session.send(text)
    cli.ok("send", "raw", "--", "\x1b[201~e")
    assert finish_raw(session, out) == text.encode() + b"\x1b[201~e"


BODY = (
    "plain line\n"
    "\tindented with a tab; $HOME `x` \\ 'single' \"double\" !!\n"
    "    four spaces, trailing spaces   \n"
    "\n"
    "ünïcødé 日本語 🎉\n"
)


def test_multiline_paste_arrives_exactly_in_bash(ta: tmuxagent.Server, tmp_path: Path) -> None:
    shell = ta.start("sh", cwd=tmp_path)
    shell.paste(f"cat > out.txt <<'EOF'\n{BODY}EOF", enter=True)
    assert shell.wait_prompt(timeout=20).exit_code == 0
    assert (tmp_path / "out.txt").read_text() == BODY


def new_repl_python() -> str | None:
    """A Python 3.13+ (its REPL asks for bracketed paste), if there is one."""
    if sys.version_info >= (3, 13):
        return sys.executable
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(pyenv.glob("3.1[3-9]*/bin/python3"), reverse=True):
        check = "import sys, _curses; sys.exit(sys.version_info < (3, 13))"
        if subprocess.run([str(candidate), "-c", check], check=False, timeout=60).returncode == 0:
            return str(candidate)
    return None


#: No tab in it: the REPL of Python 3.13.0 drops a pasted tab (the bytes arrive).
FUNCTION = (
    "def f(x):\n"
    "    s = 'text ünï 日本 ; $HOME \\\\ \"q\"'\n"
    "    if x:\n"
    "        return s * 2\n"
    "    return s\n"
)


def test_function_pasted_into_the_new_python_repl(
    ta: tmuxagent.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = new_repl_python()
    if python is None:
        pytest.skip("no Python 3.13+ (with curses) for the REPL that asks for bracketed paste")
    monkeypatch.delenv("PYTHON_BASIC_REPL", raising=False)
    repl = ta.start("py", [python, "-q"])
    repl.wait_text(r">>> $")
    assert b"\x1b[?2004h" in repl.log_path.read_bytes(), "the REPL did not ask for bracketed paste"
    repl.paste(FUNCTION, enter=True)
    repl.wait_text(r">>> $")
    repl.send(
        "import hashlib; print(hashlib.sha256(repr((f(1), f(0))).encode()).hexdigest())", enter=True
    )
    expected = 'text ünï 日本 ; $HOME \\ "q"'
    digest = hashlib.sha256(repr((expected * 2, expected)).encode()).hexdigest()
    repl.wait_text(f"^{digest}$")
