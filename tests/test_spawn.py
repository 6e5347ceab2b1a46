"""tmuxagent.spawn behaves as pexpect documents spawn, over a tmux pane."""

from __future__ import annotations

import io
import signal
import sys

import pexpect
import pytest

import tmuxagent
from tests.conftest import PROGRAMS

REPL = f"{sys.executable} {PROGRAMS / 'fake_repl.py'}"


@pytest.fixture
def child(ta: tmuxagent.Server):  # type: ignore[no-untyped-def]
    c = tmuxagent.spawn(REPL, encoding="utf-8", server=ta, timeout=10)
    yield c
    c.close()


def test_expect_sets_before_after_match(child: tmuxagent.spawn) -> None:
    assert child.expect("fake> ") == 0
    child.sendline("echo hello world")
    assert child.expect(r"hel+o (\w+)") == 0
    # The terminal echoes what was typed, as a pty does for pexpect.spawn.
    assert (child.before, child.after) == ("echo ", "hello world")
    assert child.match.group(1) == "world"
    assert child.expect(r"hel+o (\w+)") == 0  # now the program's own output
    assert child.before == "\r\n"


def test_expect_list_returns_index_of_earliest_match(child: tmuxagent.spawn) -> None:
    child.expect("fake> ")
    child.sendline("count 3")
    child.expect_exact("count 3\r\n")  # the echo
    assert child.expect(["3", "2", "1\r\n"]) == 2
    assert child.expect_exact(["3", "2"]) == 1
    assert child.expect(["nothing", pexpect.TIMEOUT], timeout=0.3) == 1  # a timeout as answer


def test_timeout_raises_with_state(child: tmuxagent.spawn) -> None:
    child.expect("fake> ")
    with pytest.raises(pexpect.TIMEOUT) as info:
        child.expect("never", timeout=0.3)
    assert "never" in str(info.value)
    assert child.name in str(info.value)


def test_eof_and_exit_status(child: tmuxagent.spawn) -> None:
    child.expect("fake> ")
    child.sendline("exit 3")
    assert child.expect([pexpect.EOF, "unreachable"]) == 0
    assert child.before == "exit 3\r\n"
    assert not child.isalive()
    assert child.exitstatus == 3 and child.signalstatus is None
    with pytest.raises(pexpect.EOF):
        child.expect("anything")


def test_sendcontrol_and_signals(child: tmuxagent.spawn) -> None:
    child.expect("fake> ")
    child.sendline("sleep 30")
    child.sendcontrol("c")  # SIGINT through the terminal
    child.expect(pexpect.EOF)
    assert "KeyboardInterrupt" in child.before
    # Python ends an unhandled KeyboardInterrupt by killing itself with SIGINT.
    assert child.exitstatus is None and child.signalstatus == signal.SIGINT


def test_sendeof(ta: tmuxagent.Server) -> None:
    child = tmuxagent.spawn("cat", server=ta, encoding="utf-8")
    child.sendline("line")
    child.expect("line\r\nline\r\n")
    child.sendeof()
    child.expect(pexpect.EOF)
    assert child.wait() == 0
    child.close()


def test_bytes_mode_and_readline(ta: tmuxagent.Server) -> None:
    code = "import time; print('a'); print('ü'); time.sleep(0.3)"  # see README: exit races
    child = tmuxagent.spawn(sys.executable, ["-c", code], server=ta)
    assert child.readline() == b"a\r\n"
    assert child.readline() == "ü\r\n".encode()
    child.expect(pexpect.EOF)
    child.close()


def test_logfile_gets_reads_and_sends(ta: tmuxagent.Server) -> None:
    log = io.StringIO()
    sent = io.StringIO()
    child = tmuxagent.spawn(REPL, server=ta, encoding="utf-8", logfile=log)
    child.logfile_send = sent
    child.expect("fake> ")
    child.sendline("echo logged")
    child.expect("logged\r\n")
    assert "echo logged\n" in sent.getvalue()
    assert "fake> " in log.getvalue() and "echo logged\n" in log.getvalue()
    child.close()


def test_is_an_ordinary_session(ta: tmuxagent.Server, child: tmuxagent.spawn) -> None:
    child.expect("fake> ")
    assert child.name in [s.name for s in ta.sessions()]
    session = ta.session(child.name)
    assert session.capture().text == "fake>"  # what a human attached would see
    child.close()
    assert child.name not in [s.name for s in ta.sessions()]
    assert not child.isalive()


def test_terminate_and_kill(ta: tmuxagent.Server) -> None:
    child = tmuxagent.spawn("sleep 30", server=ta)
    assert child.isalive()
    assert child.terminate()
    assert not child.isalive() and child.signalstatus == signal.SIGHUP
    child.close()
    stubborn = tmuxagent.spawn(
        sys.executable, ["-c", "import signal, time; [signal.signal(s, signal.SIG_IGN) for s in "
                          "(signal.SIGHUP, signal.SIGINT)]; print('armed', flush=True); "
                          "time.sleep(30)"], server=ta)  # fmt: skip
    stubborn.expect("armed")
    assert not stubborn.terminate()
    assert stubborn.terminate(force=True)
    assert stubborn.signalstatus == signal.SIGKILL
    stubborn.close()


def test_window_size_and_env(ta: tmuxagent.Server) -> None:
    code = "import os, shutil; print(os.environ.get('ONLY'), os.environ.get('HOME')); input()"
    child = tmuxagent.spawn(
        sys.executable, ["-c", code], server=ta, env={"ONLY": "me"}, dimensions=(20, 60),
        encoding="utf-8",
    )  # fmt: skip
    child.expect("me None")  # env replaces the environment, as in pexpect
    assert child.getwinsize() == (20, 60)
    child.setwinsize(30, 90)
    assert child.getwinsize() == (30, 90)
    child.close()


def test_context_manager_and_missing_command(ta: tmuxagent.Server) -> None:
    with tmuxagent.spawn("sleep 30", server=ta) as child:
        assert child.isalive()
    assert child.closed
    with pytest.raises(tmuxagent.UsageError, match="command not found"):
        tmuxagent.spawn("no-such-command-xyz", server=ta)
