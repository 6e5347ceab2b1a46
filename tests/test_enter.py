"""Enter reaches the program once: pressed when it has read the text, and again
(once, and said so) only when it can be seen to have dropped it.

tests/programs/enter_log.py logs every read() it makes, so each test sees how
many Enters arrived and how they were grouped.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, prog
from tmuxagent import _input
from tmuxagent._input import Sent

#: How long enter_log.py --deaf leaves its input unread once it comes: longer
#: than tmuxagent waits for a program to read typed text before it presses
#: Enter anyway (_input.ENTER_READ_LIMIT), shorter than it then waits for the
#: program to read both (ENTER_READ_LIMIT + ENTER_BUSY_LIMIT).
DEAF = "2"


def enter_log(
    ta: tmuxagent.Server, tmp_path: Path, name: str, *args: str
) -> tuple[tmuxagent.Session, Path]:
    """A session of enter_log.py, showing its '> ' prompt; its log of reads."""
    log = tmp_path / f"{name}.jsonl"
    session = ta.start(name, prog("enter_log.py", str(log), *args))
    session.wait_text("ready")
    return session, log


def reads(log: Path) -> list[str]:
    """What each read() of the program returned, in order."""
    return [json.loads(line)["data"] for line in log.read_text().splitlines()]


def finish(session: tmuxagent.Session, log: Path) -> list[str]:
    """End the program (Ctrl-]); every read it made before that."""
    session.keys("C-]")
    session.wait_text(r"GOT \d+")
    got = reads(log)
    assert got[-1].endswith("\x1d")
    got[-1] = got[-1].removesuffix("\x1d")
    return [data for data in got if data]


def test_a_program_silent_after_enter_gets_it_once(ta: tmuxagent.Server, tmp_path: Path) -> None:
    # It reads every key at once, and shows nothing for 1.5 s after Enter: a
    # program busy with what it was given, not one that dropped the Enter.
    session, log = enter_log(ta, tmp_path, "slow", "--slow", "1.5")
    sent = session.send("yes", enter=True)
    session.wait_text(r"^SUBMITTED: yes$")
    assert "".join(finish(session, log)) == "yes\r"
    assert sent == Sent(enter=True, retried=False)


def test_cli_json_says_enter_was_pressed_once(
    cli: CLI, ta: tmuxagent.Server, tmp_path: Path
) -> None:
    session, log = enter_log(ta, tmp_path, "slow", "--slow", "1.5")
    out = cli.ok("send", "slow", "--enter", "--json", "yes")
    assert json.loads(out) == {"name": "slow", "enter": True, "retried": False}
    session.wait_text(r"^SUBMITTED: yes$")
    out = cli.ok("paste", "slow", "--json", input="no enter")
    assert json.loads(out) == {"name": "slow", "enter": False, "retried": False}
    assert "".join(finish(session, log)) == "yes\rno enter"


def test_an_enter_that_came_with_the_text_is_pressed_again(
    ta: tmuxagent.Server, tmp_path: Path
) -> None:
    # Busy when the text comes, the program then reads text and Enter in one
    # go, takes the Enter for a line break in a paste (as Ink-based CLIs do),
    # and shows the text waiting in its input line.
    session, log = enter_log(ta, tmp_path, "ink", "--burst", "--deaf", DEAF)
    sent = session.send("hello ink", enter=True)
    session.wait_text(r"^SUBMITTED: hello ink$", timeout=10)
    assert finish(session, log) == ["hello ink\r", "\r"]
    assert sent.retried


def test_cli_json_shows_the_retry(cli: CLI, ta: tmuxagent.Server, tmp_path: Path) -> None:
    session, log = enter_log(ta, tmp_path, "ink", "--burst", "--deaf", DEAF)
    out = cli.ok("paste", "ink", "--enter", "--json", input="pasted")
    assert json.loads(out) == {"name": "ink", "enter": True, "retried": True}
    session.wait_text(r"^SUBMITTED: pasted$", timeout=10)
    assert finish(session, log) == ["pasted\r", "\r"]


def test_no_retry_with_no_retry(cli: CLI, ta: tmuxagent.Server, tmp_path: Path) -> None:
    session, log = enter_log(ta, tmp_path, "ink", "--burst", "--deaf", DEAF)
    out = cli.ok("send", "ink", "--enter", "--no-retry", "--json", "hello")
    assert json.loads(out) == {"name": "ink", "enter": True, "retried": False}
    assert finish(session, log) == ["hello\r"]  # taken for a line break, and left so


def test_a_busy_program_that_takes_the_enter_gets_it_once(
    ta: tmuxagent.Server, tmp_path: Path
) -> None:
    # Busy when the text comes too, but it takes text and Enter in one read as
    # a terminal would: it submits, and waits at its next prompt.
    session, log = enter_log(ta, tmp_path, "busy", "--deaf", DEAF)
    sent = session.send("hello", enter=True)
    session.wait_text(r"^SUBMITTED: hello$")
    assert finish(session, log) == ["hello\r"]
    assert not sent.retried


def test_busy_then_silent_gets_one_enter(ta: tmuxagent.Server, tmp_path: Path) -> None:
    # Busy when the text comes, then silent after the Enter: it is asleep,
    # not waiting for input, so it did not drop the Enter.
    session, log = enter_log(ta, tmp_path, "busy", "--deaf", DEAF, "--slow", "1.5")
    sent = session.send("hello", enter=True)
    session.wait_text(r"^SUBMITTED: hello$")
    assert finish(session, log) == ["hello\r"]
    assert not sent.retried


def test_enter_goes_in_once_a_waiting_program_has_taken_the_text(
    ta: tmuxagent.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A program seen waiting for input again after reading and echoing the
    # text (in a read: enter_log.py; in select: Python's readline) has taken
    # it: Enter goes in then, in a read of its own, with no quiet period.
    # With the quiet period and the echo's time limit made a minute long,
    # only that makes the Enter come before the wait below gives up.
    monkeypatch.setattr(_input, "ENTER_SETTLE", 60.0)
    monkeypatch.setattr(_input, "ENTER_ECHO_LIMIT", 60.0)
    session, log = enter_log(ta, tmp_path, "reads", "--burst")
    py = ta.start("py", ["python3", "-q"], wait=">>> $")
    for each, text, done in ((session, "hello", "^SUBMITTED: hello$"), (py, "6*7", "^42$")):
        with ThreadPoolExecutor(1) as pool:
            sent = pool.submit(each.send, text, enter=True)
            each.wait_text(done, timeout=20)
            assert sent.result() == Sent(enter=True, retried=False)
    assert finish(session, log) == ["hello", "\r"]


def test_behind_a_relay_enter_waits_for_the_far_program(
    ta: tmuxagent.Server, tmp_path: Path
) -> None:
    # A relay (ssh, docker exec) reads the text at once and waits again while
    # the program behind it, slow and Ink-like, still reads it in pieces:
    # Enter goes in once the end of the text has come back as echo, so the
    # far program gets it in a read of its own.
    log = tmp_path / "far.jsonl"
    far = prog("enter_log.py", str(log), "--burst", "--chew", "0.015")
    session = ta.start("far", prog("relay.py", "0.01", *far))
    session.wait_text("ready")
    text = ("abcdefghij" * 2000)[:20000]
    assert session.send(text, enter=True) == Sent(enter=True, retried=False)
    session.wait_text("^SUBMITTED: ", timeout=30)
    got = finish(session, log)
    assert got[-1] == "\r" and "".join(got[:-1]) == text
