"""Waits: only new output counts, never the echo; exits and idleness."""

from __future__ import annotations

import time

import pytest

import tmuxagent
from tests.conftest import CLI, prog


def test_wait_ignores_the_echo(shell: tmuxagent.Session, cli: CLI) -> None:
    shell.send("sleep 1; echo DONE", enter=True)
    started = time.monotonic()
    proc = cli("wait", "sh", "--text", "DONE")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "DONE\n"
    assert time.monotonic() - started > 0.8  # not the echo of the command line


def test_wait_ignores_stale_output(shell: tmuxagent.Session) -> None:
    shell.run("echo STALE")
    shell.send("echo fresh", enter=True)
    shell.wait_text("^fresh$")
    with pytest.raises(tmuxagent.WaitTimeout) as info:
        shell.wait_text("STALE", timeout=0.5)
    assert "fresh" in info.value.screen  # the timeout shows the screen


def test_wait_echo_of_long_wrapped_line(ta: tmuxagent.Server) -> None:
    # 30 columns: the typed command wraps over several rows.
    shell = ta.start("narrow", size="30x10")
    shell.send("sleep 0.5; echo " + "x" * 40 + " MARKER", enter=True)
    started = time.monotonic()
    match = shell.wait_text("MARKER")
    assert time.monotonic() - started > 0.4
    assert match.string.startswith("x" * 40)


def test_wait_echo_of_multiline_paste(ta: tmuxagent.Server) -> None:
    py = ta.start("py", ["python3", "-q"], env={"PYTHON_BASIC_REPL": "1"})
    py.wait_text(">>> $")
    py.paste("import time\ntime.sleep(0.5)\nprint('PASTED' + 'OK')\n")
    started = time.monotonic()
    py.wait_text("PASTEDOK")
    assert time.monotonic() - started > 0.3


def test_wait_regex_is_multiline(repl: tmuxagent.Session) -> None:
    repl.send("count 3", enter=True)
    assert repl.wait_text(r"^2\n3$").group() == "2\n3"


def test_wait_cat_echo_then_output(ta: tmuxagent.Server) -> None:
    # cat: the tty echoes the line, then cat prints it again: that counts.
    cat = ta.start("cat", ["cat"])
    cat.send("hello cat", enter=True)
    cat.wait_text("hello cat", timeout=5)


def test_wait_on_exited_program(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("gone", prog("exit_with.py", "4", "0.3"))
    session.wait_exit()
    started = time.monotonic()
    proc = cli("wait", "gone", "--text", "never", "--timeout", "20")
    assert proc.returncode == 3
    assert time.monotonic() - started < 5
    assert "exit status 4" in proc.stderr
    # Output the program printed before it exited still satisfies a wait.
    assert cli("wait", "gone", "--text", "about to exit").returncode == 0


def test_program_exits_mid_wait(ta: tmuxagent.Server) -> None:
    session = ta.start("later", prog("exit_with.py", "5", "0.5"))
    session.wait_text("about to exit")
    with pytest.raises(tmuxagent.ProgramExited) as info:
        session.wait_text("never", timeout=20)
    assert info.value.exit_status == 5


def test_wait_timeout_cli(repl: tmuxagent.Session, cli: CLI) -> None:
    proc = cli("wait", "repl", "--text", "never", "--timeout", "0.3")
    assert proc.returncode == 1
    assert proc.stderr.startswith("tmuxagent: timed out after 0.3s waiting for text matching")
    assert "| fake>" in proc.stderr


def test_wait_bad_regex(repl: tmuxagent.Session, cli: CLI) -> None:
    with pytest.raises(tmuxagent.UsageError):
        repl.wait_text("(")
    proc = cli("wait", "repl", "--text", "[")
    assert proc.returncode == 2 and "invalid regex" in proc.stderr


def test_wait_idle(repl: tmuxagent.Session, cli: CLI) -> None:
    repl.send("count 3", enter=True)
    started = time.monotonic()
    cli.ok("wait", "repl", "--idle", "0.5")
    assert time.monotonic() - started >= 0.5
    with pytest.raises(tmuxagent.UsageError):
        repl.wait_idle(5, timeout=1)


def test_wait_idle_times_out_on_busy_screen(shell: tmuxagent.Session) -> None:
    shell.send("while true; do date +%s%N; sleep 0.05; done", enter=True)
    with pytest.raises(tmuxagent.WaitTimeout):
        shell.wait_idle(0.5, timeout=1.5)
    shell.keys("C-c")


def test_wait_exit(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("quick", prog("exit_with.py", "9", "0.3"))
    assert cli.ok("wait", "quick", "--exit") == "exited with status 9\n"
    ta.start("sig", ["sh", "-c", "kill -TERM $$"])
    assert ta.session("sig").wait_exit() == -15
    ta.start("slow", ["sleep", "30"])
    assert cli("wait", "slow", "--exit", "--timeout", "0.3").returncode == 1


def test_wait_on_missing_session(cli: CLI) -> None:
    proc = cli("wait", "nobody", "--text", "x")
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1


def test_session_killed_mid_wait(ta: tmuxagent.Server, repl: tmuxagent.Session) -> None:
    import threading

    timer = threading.Timer(0.3, lambda: ta.session("repl").kill())
    timer.start()
    with pytest.raises(tmuxagent.NoSuchSession):
        repl.wait_text("never", timeout=20)
    timer.join()
