"""run: a command in the agent shell, its output only, its exit code and cwd."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, wait_until


def test_run_output_exit_code_cwd(shell: tmuxagent.Session, tmp_path) -> None:
    result = shell.run(f"cd {tmp_path} && printf 'a\\nb\\n' && false")
    assert result == tmuxagent.RunResult("a\nb", 1, str(tmp_path))
    assert shell.run("echo $((6 * 7))").output == "42"
    assert shell.run("printf 'no newline'").output == "no newline"
    assert shell.run("true").output == ""


def test_run_cli_json(shell: tmuxagent.Session, cli: CLI) -> None:
    data = json.loads(cli.ok("run", "sh", "--json", "echo 'semi;colon' \"$HOME\" !!"))
    assert data["exit_code"] == 0
    assert data["output"].startswith("semi;colon /")
    assert data["output"].endswith("!!")  # no history expansion
    proc = cli("run", "sh", "exit_code() { return 3; }; exit_code")
    assert proc.returncode == 0 and proc.stderr == "[exit status 3]\n"


def test_run_multiline_and_heredoc(shell: tmuxagent.Session) -> None:
    script = "cat <<'EOF'\nline one\n  line two\nEOF\necho after"
    assert shell.run(script).output == "line one\n  line two\nafter"


def test_run_no_pager(shell: tmuxagent.Session) -> None:
    assert shell.run("echo $PAGER $GIT_PAGER").output == "cat cat"
    assert shell.run("seq 1 500 | ${PAGER} | tail -1").output == "500"


def test_run_timeout_keeps_running(shell: tmuxagent.Session, cli: CLI) -> None:
    proc = cli("run", "sh", "--timeout", "0.5", "sleep 30")
    assert proc.returncode == 1
    assert "keeps running" in proc.stderr
    with pytest.raises(tmuxagent.SessionBusy):
        shell.run("echo next")
    assert cli("run", "sh", "echo next").returncode == 3
    shell.keys("C-c")
    shell.wait_text(r"\$ $")
    assert shell.run("echo next").output == "next"


def test_run_needs_agent_shell(repl: tmuxagent.Session, cli: CLI) -> None:
    proc = cli("run", "repl", "echo hi")
    assert proc.returncode == 2
    assert "send + wait" in proc.stderr


def test_run_after_shell_exits(shell: tmuxagent.Session) -> None:
    shell.send("exit 6", enter=True)
    assert shell.wait_exit() == 6
    with pytest.raises(tmuxagent.ProgramExited):
        shell.run("echo hi")


def test_agent_shell_environment(ta: tmuxagent.Server, tmp_path) -> None:
    shell = ta.start("envsh", cwd=tmp_path, env={"GREETING": "hello world"})
    assert shell.run("pwd").output == str(tmp_path)
    assert shell.run('echo "$GREETING"').output == "hello world"
    assert shell.run("echo $TMUXAGENT_SESSION").output == "envsh"
    assert shell.run("echo -n $PS2").output == ""


def test_wait_prompt_after_a_long_command(shell: tmuxagent.Session, cli: CLI) -> None:
    proc = cli("run", "sh", "--timeout", "0.3", "sleep 1; echo finished; false")
    assert proc.returncode == 1 and "wait sh --prompt" in proc.stderr
    done = cli("wait", "sh", "--prompt", "--timeout", "20")
    assert done.returncode == 0
    assert done.stdout == "finished\n" and done.stderr == "[exit status 1]\n"
    assert shell.run("echo ready").output == "ready"
    shell.send("echo typed; exit_code() { return 4; }; exit_code", enter=True)
    result = shell.wait_prompt()
    assert (result.output, result.exit_code) == ("typed", 4)
    assert json.loads(cli.ok("wait", "sh", "--prompt", "--json"))["exit_code"] == 4


def test_wait_prompt_needs_agent_shell(repl: tmuxagent.Session, cli: CLI) -> None:
    assert cli("wait", "repl", "--prompt").returncode == 2


def test_run_with_a_tab(shell: tmuxagent.Session, tmp_path) -> None:
    (tmp_path / "api_big.py").touch()
    (tmp_path / "api_huge.py").touch()
    shell.run(f"cd {tmp_path}")
    output = shell.run("printf '%s|' \"a\tb\" api_b").output  # no completion of api_b
    assert output.split() == ["a", "b|api_b|"]  # the tab, as the terminal shows it


def test_programs_get_tmux_terminal(ta: tmuxagent.Server) -> None:
    import os

    os.environ["COLUMNS"] = "50"  # a caller's stale idea of its own terminal
    try:
        shell = ta.start("term", env={"TERM": "dumb"})
    finally:
        del os.environ["COLUMNS"]
    assert shell.run("echo $TERM; tput cols; echo ${TMUX:+in-tmux}").output == (
        "tmux-256color\n120\nin-tmux"
    )


def test_ctrl_c_while_run_types_leaves_the_shell_usable(shell: tmuxagent.Session, cli: CLI) -> None:
    """Issue 9, item 11: a Ctrl-C between typing the command and its Enter
    left it typed and not run, and every later run was refused as busy."""
    import signal
    import subprocess
    import sys

    log = Path(shell.files.log)
    for attempt in range(3):
        size = log.stat().st_size
        proc = subprocess.Popen(
            [sys.executable, "-m", "tmuxagent", "-S", str(cli.socket), "run", "sh",
             f"echo done{attempt}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        # As a terminal's Ctrl-C: to the whole group, the moment the text shows
        # (the text itself: other output may come first, before Python even
        # handles SIGINT).
        typed = f"echo done{attempt}".encode()

        def shows(size: int = size, typed: bytes = typed) -> bool:
            with open(log, "rb") as f:
                f.seek(size)
                return typed in f.read()

        wait_until(shows, what="the command typed")
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=60)
        assert proc.returncode in (0, 130)
        shell.wait_prompt(timeout=10)
        assert shell.run("echo usable").output == "usable"


def test_run_types_the_command_and_its_enter_in_one_tmux_call(
    shell: tmuxagent.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The agent shell waits at its prompt (run checked): readline takes the
    # bracketed paste and the Enter after it in one read, so there is nothing
    # to wait for between them: a look-up, then one call with both.
    host = shell._host
    calls: list[list[str]] = []
    real = type(host).tmux

    def tmux(self: object, *commands: list[str], **kwargs: object) -> str:
        calls.append([c[0] for c in commands])
        return real(host, *commands, **kwargs)

    monkeypatch.setattr(type(host), "tmux", tmux)
    assert shell.run("echo one; echo two").output == "one\ntwo"
    assert calls == [["list-panes"], ["load-buffer", "paste-buffer", "send-keys"]]


def test_run_waits_for_readline_after_the_prompt_marker(shell: tmuxagent.Session) -> None:
    # bash prints the prompt marker, then draws its prompt, then readline
    # takes the terminal. A run typed in between had its paste echoed by the
    # terminal itself (^[[200~...) and the prompt in its output.
    shell.run("PROMPT_COMMAND='__tmuxagent_prompt; sleep 0.2'")
    assert shell.run("echo next").output == "next"
    assert shell.run("echo again").output == "again"
