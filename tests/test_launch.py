"""The launcher (``_launch.py``): the pane's process, which starts the program,
stays until tmux has read everything it wrote, and ends as it ended.

Issue 9, item 5: a program that exits the moment it has written used to lose
the end of its output on a busy machine (tmux closed its terminal before the
kernel had passed the last bytes on). ``bench/exit_loss.py`` measures it over
more runs than a test can afford.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tmuxagent
from tmuxagent._launch import SENTINEL

from .conftest import CLI, needs, prog, wait_until

#: Sessions that write and exit at once, under load. Without the launcher's
#: wait, a few in a hundred lost their tail here (2 cores, 2 CPU burners).
RUNS = int(os.environ.get("TMUXAGENT_EXIT_RUNS", "100"))
LINES = 5000


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2 :].split()[0] not in (b"Z", b"X")


def _stat(pid: int) -> list[bytes]:
    """/proc/PID/stat after the name: state, ppid, pgrp, session, tty, tpgid..."""
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return data[data.rfind(b")") + 2 :].split()


def _pane_pid(session: tmuxagent.Session) -> int:
    return session._at.pane().pane_pid


@pytest.fixture
def load() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two CPU-bound processes, as long as the test runs."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield burners
    for burner in burners:
        burner.kill()
        burner.wait()


def test_nothing_is_lost_when_a_program_exits_at_once(
    ta: tmuxagent.Server, load: list[subprocess.Popen[bytes]]
) -> None:
    expected = b"".join(b"%d\r\n" % i for i in range(1, LINES + 1))
    names = [f"seq{i}" for i in range(RUNS)]
    argv = ["seq", "1", str(LINES)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda name: ta.start(name, argv, size=(40, 5)), names))
    infos = wait_until(
        lambda: (found := ta.sessions()) and not any(i.alive for i in found) and found,
        timeout=60,
        what="every program to end",
    )
    assert isinstance(infos, list) and len(infos) == RUNS
    screens: dict[str, tmuxagent.Capture] = {}
    for start in range(0, RUNS, 20):  # tmux takes so many commands in one call
        screens.update(ta.screens(names[start : start + 20], history=2))
    # The pane is dead only once tmux has read everything: the log is complete
    # at once, and so is tmux's screen.
    lost_log = [i.name for i in infos if not Path(i.log).read_bytes().startswith(expected)]
    lost_screen = [n for n in names if str(LINES) not in screens[n].lines]
    assert (lost_log, lost_screen) == ([], []), f"lost the tail in {RUNS} runs"
    assert all(i.exit_status == 0 and i.signal is None for i in infos)


def test_the_exit_code_is_the_programs(ta: tmuxagent.Server) -> None:
    session = ta.start("code", prog("exit_with.py", "7"))
    assert session.wait_exit() == 7
    info = session.status()
    assert (info.alive, info.exit_status, info.signal) == (False, 7, None)


def test_a_signal_death_is_the_programs(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("segv", ["sh", "-c", "echo dying; kill -SEGV $$"])
    assert session.wait_exit() == -signal.SIGSEGV
    assert session.status().signal == signal.SIGSEGV  # tmux's pane_dead_signal
    assert json.loads(cli.ok("status", "segv", "--json"))["signal"] == signal.SIGSEGV
    assert "dying" in session.read()


def test_session_signal_reaches_the_program(ta: tmuxagent.Server) -> None:
    session = ta.start("term", ["sleep", "30"])
    session.signal(signal.SIGTERM)
    assert session.wait_exit() == -signal.SIGTERM
    session = ta.start("stop", ["sleep", "30"])
    pid = session.status().pid
    session.signal(signal.SIGSTOP)  # not one the launcher could pass on
    wait_until(lambda: _stat(pid)[0] == b"T", what="the program to stop")
    session.signal(signal.SIGKILL)
    assert session.wait_exit() == -signal.SIGKILL


def test_a_signal_to_the_panes_process_is_passed_on(ta: tmuxagent.Server) -> None:
    script = "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done"
    session = ta.start("fwd", ["sh", "-c", script])
    session.wait_text("^ready$")
    launcher = _pane_pid(session)
    assert launcher != session.status().pid
    os.kill(launcher, signal.SIGTERM)  # what `kill` of tmux's #{pane_pid} does
    assert session.wait_exit() == 3
    assert "got TERM" in session.read()


def test_ctrl_c_reaches_the_program_and_not_the_launcher(ta: tmuxagent.Server) -> None:
    script = "trap 'echo got INT' INT; echo ready; while :; do sleep 0.05; done"
    session = ta.start("cc", ["sh", "-c", script])
    session.wait_text("^ready$")
    launcher = _pane_pid(session)
    session.keys("C-c")
    session.wait_text("got INT$")
    session.keys("C-c")
    session.wait_text("got INT$")
    assert session.status().alive and _running(launcher)
    # The program owns the terminal, in a session of its own; the launcher
    # is outside it, where the terminal's signals cannot reach it.
    pid = session.status().pid
    _, _, pgrp, sid, tty, tpgid = _stat(pid)[:6]
    assert int(sid) == pid and int(pgrp) == pid and int(tpgid) == pid and int(tty) != 0
    assert int(_stat(launcher)[3]) == launcher and int(_stat(launcher)[4]) == 0
    # A program that dies of it: so does the launcher, and tmux sees SIGINT.
    session = ta.start("cc2", ["sleep", "30"])
    _ = session.status()  # its pid is known once the program runs
    session.keys("C-c")
    assert session.wait_exit() == -signal.SIGINT


def test_pid_means_the_program(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("pid", ["sh", "-c", "echo pid=$$; exec sleep 30"])
    pid = int(session.wait_text(r"^pid=(\d+)$").group(1))
    assert session.status().pid == pid
    assert json.loads(cli.ok("status", "pid", "--json"))["pid"] == pid
    assert [i.pid for i in ta.sessions()] == [pid]
    launcher = _pane_pid(session)
    assert launcher != pid and int(_stat(pid)[1]) == launcher
    child = tmuxagent.spawn("sleep 30", server=ta, name="spawned")
    try:
        assert int(_stat(child.pid)[1]) == _pane_pid(child.session)
        argv = Path(f"/proc/{child.pid}/cmdline").read_bytes().split(b"\0")
        assert argv[:2] == [os.fsencode(shutil.which("sleep") or "sleep"), b"30"]  # as pexpect
    finally:
        child.close()
    session.kill()
    assert not _running(pid)
    wait_until(lambda: not _running(launcher), what="the launcher to go with it")


def test_a_killed_launcher_takes_its_program_along(ta: tmuxagent.Server, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    session = ta.start("orphan", prog("ignore_hup.py", str(pidfile)))
    session.wait_text("ignoring SIGHUP")
    pid = int(pidfile.read_text())
    assert session.status().pid == pid
    os.kill(_pane_pid(session), signal.SIGKILL)
    wait_until(lambda: not _running(pid), what="the program to be killed with its launcher")
    assert session.wait_exit() == -signal.SIGKILL


def test_the_hangup_when_the_pane_goes_reaches_the_program(ta: tmuxagent.Server) -> None:
    session = ta.start("hup", ["sh", "-c", "trap 'exit 0' HUP; echo ready; exec sleep 300"])
    session.wait_text("^ready$")
    pid, launcher = session.status().pid, _pane_pid(session)
    ta.start("other", ["sleep", "300"])  # the server stays
    ta.host.tmux(["kill-session", "-t", "=hup"])  # tmux alone: no SIGTERM from tmuxagent
    wait_until(lambda: not _running(pid), what="the hangup to end the program")
    wait_until(lambda: not _running(launcher), what="the launcher to end")


@needs("less", "vim")
def test_job_control_works(shell: tmuxagent.Session, ta: tmuxagent.Server, tmp_path: Path) -> None:
    assert shell.run("sleep 30 &").exit_code == 0
    assert "Running" in shell.run("jobs").output
    shell.send("fg", enter=True)
    shell.wait_text("^sleep 30$")  # fg names the job it brings back
    shell.keys("C-c")
    assert shell.wait_prompt().exit_code == 130
    assert shell.run("echo still here").output == "still here"
    text = tmp_path / "page.txt"
    text.write_text("".join(f"line {i}\n" for i in range(200)))
    pager = ta.start("less", ["less", str(text)], env={"LESS": ""})
    pager.wait_text("^line 0$")
    pager.keys("q")
    assert pager.wait_exit() == 0
    editor = ta.start("vim", ["vim", "-u", "NONE", "-N", "-n", str(text)])
    editor.wait_text("line 0")
    editor.send(":q!", enter=True)
    assert editor.wait_exit() == 0


def test_the_sentinel_shows_nowhere(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("quiet", ["echo", "hello"])
    assert session.wait_exit() == 0
    raw = session.log_path.read_bytes()
    assert raw.startswith(b"hello\r\n" + SENTINEL) and raw.endswith(b"\x07")  # in the log...
    assert session.read() == "hello\n"  # ...but not in what is read, waited for, shown
    assert session.transcript() == "hello\n"
    assert cli.ok("capture", "quiet").splitlines()[0] == "hello"
    assert SENTINEL.decode() not in session.capture(ansi=True).text


def test_a_program_that_cannot_start(ta: tmuxagent.Server, tmp_path: Path) -> None:
    script = tmp_path / "broken"
    script.write_text("#!/nonexistent/interpreter\n")
    script.chmod(0o700)
    with pytest.raises(tmuxagent.CannotRun, match="'/nonexistent/interpreter', does not exist"):
        ta.start("broken", [str(script)])
    assert ta.sessions() == []  # nothing left: the name is free again
    assert list(ta.state_root.iterdir()) == []
    ta.start("broken", ["true"]).wait_exit()


def test_the_program_gets_signal_dispositions_as_tmux_gives_them(ta: tmuxagent.Server) -> None:
    # Python ignores SIGPIPE; the program must not inherit that (`yes | head`
    # would complain of a broken pipe instead of ending quietly).
    session = ta.start("sigs", ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"])
    assert session.wait_exit() == 0
    text = session.read()
    fields = dict(line.split(":") for line in text.splitlines() if line.startswith("Sig"))
    assert int(fields["SigBlk"], 16) == 0
    assert not int(fields["SigIgn"], 16) & (1 << (signal.SIGPIPE - 1))
    session = ta.start("pipe", ["sh", "-c", "yes | head -1"])
    assert session.wait_exit() == 0
    assert session.read() == "y\n"
    assert (Path(session.files.root) / "program.pid").stat().st_mode & 0o077 == 0
