"""tmuxagent.spawn behaves as pexpect documents spawn, over a tmux pane."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    assert child.session_name in str(info.value)


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
    assert child.session_name in [s.name for s in ta.sessions()]
    session = ta.session(child.session_name)
    assert session.capture().text == "fake>"  # what a human attached would see
    child.close()
    assert child.session_name not in [s.name for s in ta.sessions()]
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
    with pytest.raises(pexpect.ExceptionPexpect, match="not found or was not executable"):
        tmuxagent.spawn("no-such-command-xyz", server=ta)


def test_pexpect_signature_and_its_refusals(ta: tmuxagent.Server) -> None:
    # pexpect.spawn's positional order: ..., env, ignore_sighup, echo, ...
    child = tmuxagent.spawn("cat", [], 5, 2000, None, None, None, None, False, False,
                            server=ta)  # fmt: skip
    assert (child.timeout, child.echo, child.name) == (5, False, f"<{child.command}>")
    child.close()
    with pytest.raises(TypeError, match="args, must be a list"):
        tmuxagent.spawn("echo", "-la", server=ta)  # type: ignore[arg-type]
    with pytest.raises(pexpect.ExceptionPexpect, match="preexec_fn"):
        tmuxagent.spawn("cat", preexec_fn=lambda: None, server=ta)
    with pytest.raises(pexpect.ExceptionPexpect, match="fdspawn"):
        tmuxagent.spawn(3, server=ta)  # type: ignore[arg-type]
    factory = tmuxagent.spawn(None)  # runs nothing, as pexpect's does
    assert (factory.command, factory.name, factory.isalive()) == (
        None,
        "<pexpect factory incomplete>",
        False,
    )
    assert ta.sessions() == []


def test_echo_off_at_start_and_toggled(ta: tmuxagent.Server) -> None:
    child = tmuxagent.spawn("cat", echo=False, server=ta, timeout=5)
    assert not child.getecho()
    child.sendline("quiet")
    child.expect("quiet\r\n")
    assert child.before == b""  # cat's answer only: no echo before it
    child.setecho(True)
    assert child.getecho()
    child.sendline("loud")
    child.expect("loud\r\nloud\r\n")  # the echo, then cat's answer
    child.setecho(False)
    assert child.waitnoecho(timeout=2)
    child.close()


def test_ignore_sighup_and_eof(ta: tmuxagent.Server) -> None:
    code = "import time; print('READY', flush=True); time.sleep(30)"
    stubborn = tmuxagent.spawn(sys.executable, ["-c", code], ignore_sighup=True, server=ta)
    stubborn.expect("READY")
    stubborn.kill(signal.SIGHUP)
    assert stubborn.isalive() and not stubborn.eof()
    stubborn.kill(signal.SIGTERM)
    stubborn.expect(pexpect.EOF)
    assert stubborn.eof() and stubborn.signalstatus == signal.SIGTERM
    stubborn.close()


def test_child_fd_reads_like_a_pty(ta: tmuxagent.Server) -> None:
    import os
    import select

    child = tmuxagent.spawn("cat", echo=False, server=ta, use_poll=True)
    assert child.fileno() == child.child_fd >= 0
    assert select.select([child.child_fd], [], [], 0.2)[0] == []  # nothing yet
    child.sendline("ping")
    assert select.select([child.child_fd], [], [], 10)[0] == [child.child_fd]
    assert os.read(child.child_fd, 100) == b"ping\r\n"
    child.sendeof()
    assert select.select([child.child_fd], [], [], 10)[0] == [child.child_fd]
    assert os.read(child.child_fd, 100) == b""  # the end, once cat has ended
    assert not child.isalive()
    child.close()
    assert child.child_fd == -1


async def test_expect_async(ta: tmuxagent.Server) -> None:
    child = tmuxagent.spawn("cat", echo=False, server=ta, encoding="utf-8")
    child.sendline("async hello")
    assert await child.expect(["async (\\w+)"], async_=True) == 0
    assert child.match.group(1) == "hello"
    child.close()


def test_a_spawn_nobody_holds_ends_its_session(ta: tmuxagent.Server) -> None:
    import gc

    child = tmuxagent.spawn("sleep 30", server=ta)
    name = child.session_name
    assert [s.name for s in ta.sessions()] == [name]
    del child
    gc.collect()
    assert ta.sessions() == []  # pexpect's child ends with its spawn; so does the session


def test_tmux_is_found_after_path_changes(
    ta: tmuxagent.Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tmuxagent import _tmux

    # tmux is looked up when tmuxagent loads, on PATH's absolute folders only
    # (a relative one would mean another program after a chdir).
    fake = tmp_path / "bin" / "tmux"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 99\n")
    fake.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_tmux, "_found", {})
    monkeypatch.setenv("PATH", f"bin{os.pathsep}{os.environ['PATH']}")
    assert os.path.isabs(_tmux.locate("tmux")) and _tmux.locate("tmux") != str(fake)
    monkeypatch.setenv("PATH", str(tmp_path))  # pexpect code sets PATH for its programs
    child = tmuxagent.spawn("/bin/echo", ["found"], server=ta, env={"PATH": str(tmp_path)})
    child.expect("found")
    child.close()


def test_echo_off_for_a_program_that_is_gone_at_once(ta: tmuxagent.Server) -> None:
    child = tmuxagent.spawn("echo hi", echo=False, server=ta)  # as pexpect: no error
    child.expect(pexpect.EOF)
    assert child.before == b"hi\r\n"
    child.close()
    assert ta.sessions() == []


def test_sessions_end_with_the_process_that_held_them(ta: tmuxagent.Server) -> None:
    # An uncaught exception keeps the spawn alive to the end: it is closed
    # at exit all the same, and a forked child's copy is not its to end.
    code = (
        "import os, sys, gc, tmuxagent\n"
        f"server = tmuxagent.Server({str(ta.socket_path)!r})\n"
        "kept = tmuxagent.spawn('sleep 30', server=server, name='parents')\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    del kept; gc.collect(); os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print('alive' if kept.isalive() else 'gone', flush=True)\n"
        "def fail():\n"
        "    held = tmuxagent.spawn('sleep 30', server=server)\n"
        "    held.expect('x', timeout=0.1)\n"
        "fail()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout == "alive\n" and "TIMEOUT" in proc.stderr
    assert ta.sessions() == []


def test_no_typing_into_a_pane_of_a_restarted_server(ta: tmuxagent.Server) -> None:
    first = tmuxagent.spawn("cat", server=ta, keep_session=True, name="first")
    first.sendline("hello")
    first.expect("hello")
    ta.kill_all()
    second = tmuxagent.spawn("cat", server=ta, name="second")  # may get the same pane id
    with pytest.raises(pexpect.ExceptionPexpect, match="first"):
        first.sendline("not for second")
    second.sendline("mine")
    second.expect("mine\r\nmine\r\n")
    assert b"not for second" not in second.before
    second.close()


def test_output_goes_on_after_tmux_was_too_busy_to_answer(ta: tmuxagent.Server) -> None:
    impatient = tmuxagent.Server(str(ta.socket_path), timeout=0.5)
    child = tmuxagent.spawn("cat", server=impatient, echo=False, timeout=10)
    server_pid = ta.sessions()[0].pid and child._pane.server_pid  # type: ignore[union-attr]
    os.kill(server_pid, signal.SIGSTOP)
    try:
        time.sleep(1.5)  # an outage: longer than a tmux call may take
    finally:
        os.kill(server_pid, signal.SIGCONT)
    child.sendline("still here")
    child.expect("still here\r\n")  # not EOF: the program runs on
    child.close()


def test_isalive_says_when_tmux_does_not_answer(ta: tmuxagent.Server) -> None:
    impatient = tmuxagent.Server(str(ta.socket_path), timeout=0.5)
    child = tmuxagent.spawn("sleep 30", server=impatient)
    assert child._pane is not None
    os.kill(child._pane.server_pid, signal.SIGSTOP)
    try:
        with pytest.raises(pexpect.ExceptionPexpect, match="isalive"):
            child.isalive()
    finally:
        os.kill(child._pane.server_pid, signal.SIGCONT)
    assert child.isalive()
    child.close()
