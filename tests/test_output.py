"""Output: capture (the screen) and read (the lossless stream)."""

from __future__ import annotations

import json

import pytest

import tmuxagent
from tests.conftest import CLI, prog


def test_read_is_lossless_past_the_screen(shell: tmuxagent.Session) -> None:
    shell.read()
    result = shell.run("seq 1 40000", timeout=60)
    assert result.output.split("\n") == [str(i) for i in range(1, 40001)]
    text = shell.read()
    lines = text.split("\n")
    numbers = [ln for ln in lines if ln.isdigit()]
    assert numbers == [str(i) for i in range(1, 40001)]
    assert lines[0].endswith("seq 1 40000")  # the echo of the command comes first
    assert shell.read() == ""  # nothing new since


def test_read_returns_each_line_once(repl: tmuxagent.Session) -> None:
    first = repl.read()
    assert first == "fake> "
    repl.send("echo one", enter=True)
    repl.wait_text("^one$")
    repl.send("echo two", enter=True)
    repl.wait_text("^two$")
    second = repl.read()
    assert second.split("\n") == ["echo one", "one", "fake> echo two", "two", "fake> "]
    repl.send("count 3", enter=True)
    repl.wait_text("^3$")
    assert repl.read().split("\n") == ["count 3", "1", "2", "3", "fake> "]


def test_read_cap_keeps_head_and_tail(shell: tmuxagent.Session) -> None:
    shell.run("seq 1 30000")
    text = shell.read(max_chars=20_000)
    assert len(text) < 21_000
    assert "seq 1 30000" in text.split("\n")[0]
    assert text.rstrip().split("\n")[-2] == "30000"
    assert "characters of output left out here" in text
    assert str(shell.log_path) in text


def test_read_huge_output_is_bounded(shell: tmuxagent.Session) -> None:
    shell.run("seq 1 400000 | sed 's/$/ padding padding padding/'", timeout=120)
    text = shell.read(max_chars=10_000)
    assert len(text) < 12_000
    assert "bytes of output left out here" in text
    assert "400000 padding" in text
    assert shell.log_path.stat().st_size > 10_000_000


def test_capture_screen_and_history(shell: tmuxagent.Session, cli: CLI) -> None:
    shell.run("seq 1 200")
    screen = shell.capture()
    assert screen.lines[-1].endswith(" $")
    assert "1" not in screen.lines  # scrolled off the 40-row screen
    assert shell.capture(lines=3).lines[:2] == ["199", "200"]
    full = shell.capture(history=True).lines
    assert [ln for ln in full if ln.isdigit()] == [str(i) for i in range(1, 201)]
    data = json.loads(cli.ok("capture", "sh", "--json", "--lines", "2"))
    assert data["lines"][0] == "200"
    assert data["size"] == "120x40" and data["alive"] is True
    assert cli.ok("capture", "sh", "--all").count("\n") >= 200


def test_capture_ansi_keeps_colours(shell: tmuxagent.Session) -> None:
    shell.run(r"printf '\033[31mRED\033[0m\n'")
    assert "\x1b[31mRED" in shell.capture(ansi=True).text
    assert "\x1b" not in shell.capture().text


def test_capture_bad_lines(shell: tmuxagent.Session, cli: CLI) -> None:
    with pytest.raises(tmuxagent.UsageError):
        shell.capture(lines=0)
    assert cli("capture", "sh", "--lines", "x").returncode == 2


def test_wide_characters_survive(shell: tmuxagent.Session) -> None:
    shell.run("echo 'wide: 日本語 🎉 ünï'")
    assert "wide: 日本語 🎉 ünï" in shell.capture().text
    assert "wide: 日本語 🎉 ünï" in shell.read()


def test_dead_program_keeps_its_screen(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("dying", prog("exit_with.py", "7", "0.3"))
    assert session.wait_exit() == 7
    assert "about to exit with 7" in session.capture().text
    assert "about to exit with 7" in session.read()
    assert "about to exit with 7" in cli.ok("capture", "dying")


def test_output_from_the_first_byte_is_kept(ta: tmuxagent.Server) -> None:
    # The log is attached in the same tmux call that starts the program.
    session = ta.start("burst", ["sh", "-c", "seq 1 5000; exec sleep 300"])
    session.wait_text("^5000$")
    assert session.read().split("\n")[:5000] == [str(i) for i in range(1, 5001)]
