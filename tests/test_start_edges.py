"""``start`` that fails half way: nothing left running, the name free again;
settings and socket paths that are wrong, refused before anything is made."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, wait_until
from tmuxagent import _procs


def _state_dirs(ta: tmuxagent.Server) -> list[str]:
    return sorted(os.listdir(ta.state_root)) if ta.state_root.exists() else []


def _running(ta: tmuxagent.Server) -> list[tuple[str, bool]]:
    return [(info.name, info.alive) for info in ta.sessions()]


def test_ctrl_c_during_start_kills_the_new_session(ta: tmuxagent.Server) -> None:
    ta.start("other", ["cat"])
    argv = [sys.executable, "-m", "tmuxagent", "-S", str(ta.socket_path), "start", "x",
            "--wait", "never shown", "--timeout", "60", "--", "cat"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        infos = wait_until(
            lambda: [i for i in ta.sessions() if i.name == "x"], what="the session to exist"
        )
        pid = infos[0].pid  # type: ignore[index]
        proc.send_signal(signal.SIGINT)  # start is waiting for its --wait text
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert _running(ta) == [("other", True)]
    assert len(_state_dirs(ta)) == 1  # the other session's
    wait_until(lambda: not _procs.alive(pid), what="the program to end")
    CLI(ta.socket_path).ok("start", "x", "--", "cat")  # the name is free


def test_interrupt_as_tmux_answers_new_session(
    ta: tmuxagent.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tmux made the session, but start never heard its answer: it finds it by
    name (and its directory), and kills it."""
    real = ta.host.tmux

    def tmux(*commands: list[str], **kw: object) -> str:
        answer = real(*commands, **kw)  # type: ignore[arg-type]
        if any(c[:1] == ["new-session"] for c in commands):
            raise KeyboardInterrupt
        return answer

    monkeypatch.setattr(ta.host, "tmux", tmux)
    with pytest.raises(KeyboardInterrupt):
        ta.start("x", ["cat"])
    monkeypatch.undo()
    assert _running(ta) == [] and _state_dirs(ta) == []
    ta.start("x", ["cat"])


def test_a_failed_start_leaves_another_session_of_the_name_alone(
    ta: tmuxagent.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start that gave up before its new-session is known to have run looks
    the name up: a session of that name made by someone else stays."""
    ta.start("x", ["cat"])
    real = ta.host.tmux

    def tmux(*commands: list[str], **kw: object) -> str:
        if any(c[:1] == ["new-session"] for c in commands):
            raise tmuxagent.TmuxError("tmux did not answer (as if)")
        return real(*commands, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ta.host, "tmux", tmux)
    with pytest.raises(tmuxagent.TmuxError, match="as if"):
        ta.start("x", ["cat"])
    monkeypatch.undo()
    assert _running(ta) == [("x", True)]
    assert len(_state_dirs(ta)) == 1
    ta.session("x").send("still here", enter=True, wait="still here", timeout=10)


def test_a_start_on_a_stopped_server_leaves_the_name_free(ta: tmuxagent.Server, cli: CLI) -> None:
    """tmux runs the new-session of a start that gave up on it once it is
    resumed: a later start of the name replaces that session."""
    ta.start("c", ["cat"])
    server = int(ta.host.tmux(["display", "-p", "#{pid}"]))
    os.kill(server, signal.SIGSTOP)
    try:
        proc = cli("--tmux-timeout", "1", "start", "new", "--", "cat")
    finally:
        os.kill(server, signal.SIGCONT)
    assert proc.returncode == 4 and "did not answer" in proc.stderr
    cli.ok("start", "new", "--", "cat")
    assert _running(ta) == [("c", True), ("new", True)]
    assert len(_state_dirs(ta)) == 2
    ta.session("new").send("hello", enter=True, wait="hello", timeout=10)


def test_start_replaces_an_ended_session_whose_files_are_gone(
    ta: tmuxagent.Server, cli: CLI
) -> None:
    session = ta.start("old", ["cat"])
    pid = session.status().pid
    shutil.rmtree(session.files.root)
    proc = cli("start", "old", "--", "cat")  # it still runs: not start's to end
    assert proc.returncode == 3 and "already exists" in proc.stderr
    assert _procs.alive(pid)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: _running(ta) == [("old", False)], what="the program to end")
    cli.ok("start", "old", "--", "cat")
    assert _running(ta) == [("old", True)] and len(_state_dirs(ta)) == 1


def test_first_prompt_that_never_comes_leaves_nothing(ta: tmuxagent.Server, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "bash"  # the agent shell that prints no prompt
    fake.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'pid'}\nexec sleep 300\n")
    fake.chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"
    with pytest.raises(tmuxagent.WaitTimeout, match="first prompt"):
        ta.start("sh", env={"PATH": path}, ready_timeout=0.5)
    pid = int((tmp_path / "pid").read_text())
    assert _running(ta) == [] and _state_dirs(ta) == []
    wait_until(lambda: not _procs.alive(pid), what="the fake shell to end")


def test_start_wait_timeout_keeps_the_session(ta: tmuxagent.Server, cli: CLI) -> None:
    """The program started; the agent may look at what it shows instead."""
    proc = cli("start", "x", "--wait", "never shown", "--timeout", "0.3", "--", "cat")
    assert proc.returncode == 1 and "timed out" in proc.stderr.lower(), proc.stderr
    assert _running(ta) == [("x", True)]
    proc = cli("start", "y", "--wait", "never shown", "--", "sh", "-c", "echo bye")
    assert proc.returncode == 3 and "has exited" in proc.stderr, proc.stderr
    assert "bye" in cli.ok("capture", "y")


BAD_LIMIT = {"TMUXAGENT_LOG_LIMIT": "abc"}


def test_bad_log_limit_variable_fails_only_start(ta: tmuxagent.Server, cli: CLI) -> None:
    cli.ok("start", "z", "--log-limit", "1M", env=BAD_LIMIT)  # the agent shell
    assert "z" in cli.ok("list", env=BAD_LIMIT)
    assert cli.ok("run", "z", "echo ok", env=BAD_LIMIT) == "ok\n"
    proc = cli("start", "y", "--", "cat", env=BAD_LIMIT)
    assert proc.returncode == 2
    assert "$TMUXAGENT_LOG_LIMIT" in proc.stderr and "'abc'" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert _running(ta) == [("z", True)]
    cli.ok("kill", "--all", env=BAD_LIMIT)
    assert _running(ta) == []


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_socket_path_that_is_not_a_socket(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "sock"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_text("")
    before = sorted(os.listdir(tmp_path))
    proc = CLI(path)("start", "x", "--", "cat")
    assert proc.returncode == 2, proc.stderr
    assert f"is a {kind}, not a socket" in proc.stderr and str(path) in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == before  # no sock.tmuxagent/
