"""spawn types over a standing control-mode connection to tmux (_control.py):
every byte exact, past a human's copy mode, and on after the connection is
lost or the process forks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

import tmuxagent
from tests.conftest import prog, wait_until
from tmuxagent import _control, _input
from tmuxagent._control import Control


def _typed_by_process(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """What the spawn types through a tmux process instead (a spy that lets
    it through): empty while the connection carries everything."""
    seen: list[bytes] = []
    real = _input.type_text

    def spy(host, pane, text, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(text.encode("utf-8", "surrogateescape"))
        return real(host, pane, text, **kwargs)

    monkeypatch.setattr(_input, "type_text", spy)
    return seen


def _raw(ta: tmuxagent.Server, tmp_path: Path) -> tuple[tmuxagent.spawn, Path]:
    out = tmp_path / "got.bin"
    child = tmuxagent.spawn(prog("raw_reader.py", str(out))[0], prog("raw_reader.py", str(out))[1:],
                            server=ta, timeout=10)  # fmt: skip
    child.expect_exact("ready\r\n")
    return child, out


def test_every_byte_goes_over_the_connection(
    ta: tmuxagent.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_process = _typed_by_process(monkeypatch)
    child, out = _raw(ta, tmp_path)
    every = bytes(b for b in range(256) if b != 0x1D)  # Ctrl-] ends the reader
    sent = every + b"; Enter C-c \\; $HOME #{pane_id} '\"" + every
    child.send(sent)
    child.send(b"\x1d")
    child.expect(r"GOT \d+")
    assert out.read_bytes() == sent
    assert by_process == [] and child._keyboard._made == 1
    child.close()


def test_long_text_goes_through_a_tmux_process(
    ta: tmuxagent.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_process = _typed_by_process(monkeypatch)
    child, out = _raw(ta, tmp_path)
    long = bytes(range(32, 127)) * (_control.MOST_TYPED // 95 + 1)
    child.send(long)
    child.send(b"\x1d")
    child.expect(r"GOT \d+")
    assert out.read_bytes() == long
    assert by_process == [long]  # and Ctrl-] over the connection
    child.close()


def test_typing_reaches_the_program_while_a_human_scrolls(
    ta: tmuxagent.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In copy mode tmux gives send-keys to the mode (q would leave it, other
    # keys are lost): the text is pasted past it, and the human stays.
    by_process = _typed_by_process(monkeypatch)
    child = tmuxagent.spawn("cat", echo=False, server=ta, timeout=10)
    child.sendline("before")
    child.expect_exact("before\r\n")
    pane = child._pane
    assert pane is not None
    ta.host.tmux(["copy-mode", "-t", pane.id])
    child.sendline("quit")
    child.expect_exact("quit\r\n")
    assert ta.host.tmux(["display", "-p", "-t", pane.id, "#{pane_in_mode}"]).strip() == "1"
    assert by_process == [b"quit\n"]
    child.close()


def test_a_lost_connection_is_made_again(ta: tmuxagent.Server) -> None:
    # A kept session outlives its spawn's connection (see the next test).
    child = tmuxagent.spawn("cat", echo=False, server=ta, timeout=10, keep_session=True)
    child.sendline("one")
    child.expect_exact("one\r\n")
    control = child._keyboard._control
    assert control is not None and control.pid is not None
    os.kill(control.pid, signal.SIGKILL)
    for word in ("two", "three"):
        child.sendline(word)
        child.expect_exact(f"{word}\r\n")
    assert child._keyboard._made == 2 and child._keyboard._control is not control
    child.close()
    ta.session(child.session_name).kill()


def test_the_session_ends_with_the_process_that_spawned_it(ta: tmuxagent.Server) -> None:
    # As a pty's child gets its hangup when the spawn's process is killed:
    # the spawn's connection ends, and with it the session and its program.
    code = (
        "import sys, tmuxagent\n"
        f"server = tmuxagent.Server({str(ta.socket_path)!r})\n"
        "held = tmuxagent.spawn('sleep 300', server=server, name='held')\n"
        "kept = tmuxagent.spawn('sleep 300', server=server, name='kept', keep_session=True)\n"
        "print(held.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as proc:  # fmt: skip
        assert proc.stdout is not None
        program = int(proc.stdout.readline())
        proc.kill()
    wait_until(lambda: [s.name for s in ta.sessions()] == ["kept"], what="held ended")
    wait_until(lambda: not os.path.exists(f"/proc/{program}"), what="its program ended")
    ta.session("kept").kill()


def test_the_connection_is_not_a_person_attached(ta: tmuxagent.Server) -> None:
    child = tmuxagent.spawn("cat", server=ta, timeout=10)
    child.sendline("x")
    child.expect_exact("x\r\n")
    clients = ta.host.tmux(["list-clients", "-F", "#{client_control_mode}"]).split()
    assert clients == ["1"]  # it is attached, as tmux needs
    info = ta.session(child.session_name).status()
    assert not info.attached
    child.close()


def test_a_forked_child_types_without_the_parents_connection(ta: tmuxagent.Server) -> None:
    child = tmuxagent.spawn("cat", echo=False, server=ta, timeout=10)
    child.sendline("parent")
    child.expect_exact("parent\r\n")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked child
        code = 1
        try:
            child.sendline("child")
            code = 0 if child._keyboard._made == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child.expect_exact("child\r\n")
    child.sendline("parent again")  # over the parent's connection, still whole
    child.expect_exact("parent again\r\n")
    assert child._keyboard._made == 1
    child.close()


def test_closing_ends_the_connection(ta: tmuxagent.Server) -> None:
    child = tmuxagent.spawn("cat", server=ta, timeout=10, keep_session=True)
    child.sendline("x")
    child.expect_exact("x")
    control = child._keyboard._control
    assert control is not None and control.pid is not None
    pid = control.pid
    child.close()
    assert control.pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped
    wait_until(lambda: ta.host.tmux(["list-clients"]) == "", what="no client left")
    ta.session(child.session_name).kill()


def test_replies_are_known_by_their_token(ta: tmuxagent.Server) -> None:
    # A window name a program chose, printed by tmux in a notification, is
    # not taken as (the end of) a reply.
    session = ta.start("named", [sys.executable, "-c", "input()"])
    control = ta.host.control(session._at.target)
    try:
        ta.host.tmux(["rename-window", "-t", session._at.target, "%end 1 2 1\n%exit"])
        assert control.run(["display", "-p", "#{session_name}"]) == ["named"]
        with pytest.raises(ValueError):
            control.run(["display", "-p", 'a "quoted" $word'])
    finally:
        control.close()
    assert isinstance(control, Control)


def test_kill_all_waits_for_a_server_a_connection_held(ta: tmuxagent.Server) -> None:
    # With a client attached, tmux outlives kill-server's answer a moment: a
    # start right after must get a new server, not the old one's last breath.
    for i in range(5):
        child = tmuxagent.spawn("cat", server=ta, keep_session=True, name=f"held{i}")
        child.sendline("x")
        child.expect_exact("x")
        ta.kill_all()
        ta.start(f"after{i}", ["cat"])
        child.close()


def test_a_person_taking_the_session_over_does_not_end_it(ta: tmuxagent.Server) -> None:
    # attach -d (or detach-client) detaches the spawn's connection; the
    # session lives on with the process that spawned it, and typing goes on.
    child = tmuxagent.spawn("cat", echo=False, server=ta, timeout=10)
    child.sendline("one")
    child.expect_exact("one\r\n")
    target = f"={child.session_name}"
    ta.host.tmux(["detach-client", "-s", target])
    wait_until(lambda: ta.host.tmux(["list-clients"]) == "", what="detached")
    child.sendline("two")
    child.expect_exact("two\r\n")
    assert child.isalive()
    child.close()


def test_sends_to_a_stopped_server_fail_in_time(ta: tmuxagent.Server) -> None:
    impatient = tmuxagent.Server(str(ta.socket_path), timeout=0.5)
    child = tmuxagent.spawn("cat", echo=False, server=impatient, timeout=10)
    child.sendline("before")
    child.expect_exact("before\r\n")
    assert child._pane is not None
    server_pid = child._pane.server_pid
    os.kill(server_pid, signal.SIGSTOP)
    try:
        for _ in range(3):  # the second fills the connection's pipe: it must not hang
            started = time.monotonic()
            with pytest.raises(pexpect.ExceptionPexpect, match="did not answer"):
                child.send(b"x" * 16000)
            assert time.monotonic() - started < 30  # a deadline, not a speed: it hung before
    finally:
        os.kill(server_pid, signal.SIGCONT)
    child.sendline("after")
    child.expect_exact("after\r\n")  # the session is whole: what was taken may come first
    child.close()


def test_a_spawn_types_with_descriptors_past_1024(ta: tmuxagent.Server) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip("no room for 2048 descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        child = tmuxagent.spawn("cat", echo=False, server=ta, timeout=10)
        assert child._keyboard is not None and child._keyboard._control is not None
        assert child._keyboard._control._out >= 1024  # select() would refuse it
        child.sendline("far")
        child.expect_exact("far\r\n")
        child.close()
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_close_tmux_did_not_answer_still_ends_the_session(ta: tmuxagent.Server) -> None:
    impatient = tmuxagent.Server(str(ta.socket_path), timeout=0.5)
    child = tmuxagent.spawn("cat", server=impatient, timeout=10, name="unanswered")
    assert child._pane is not None
    server_pid = child._pane.server_pid
    os.kill(server_pid, signal.SIGSTOP)
    try:
        with pytest.raises(pexpect.ExceptionPexpect):
            child.close()
    finally:
        os.kill(server_pid, signal.SIGCONT)
    # Its guard was let go, not stopped: it ends the session once tmux answers.
    wait_until(lambda: [s.name for s in ta.sessions()] == [], what="the session ended")
