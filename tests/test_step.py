"""One step, one call (issue 11): send, paste, keys and start, each with a
wait for text, a still screen or the agent shell's prompt, returning (and the
CLI printing) what the program printed after the input, without its echo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI

PY = ["python3", "-q"]
BASIC = {"PYTHON_BASIC_REPL": "1"}


@pytest.fixture
def py(ta: tmuxagent.Server) -> tmuxagent.Session:
    return ta.start("py", PY, env=BASIC, wait=">>> $")


def test_a_step_returns_its_own_result_when_values_repeat(py: tmuxagent.Session) -> None:
    """A poll of the screen gives the previous step's '7' again; a step
    gives its own output, after its own input."""
    for n in (7, 7, 8, 7):
        sent = py.send(f"print({n})", enter=True, wait=r"^\d+$")
        assert sent.output == str(n)
        assert sent.match is not None and sent.match.group() == str(n)
        assert sent.enter


def test_the_output_stops_at_the_match_and_leaves_the_echo_out(py: tmuxagent.Session) -> None:
    sent = py.send("print('a'); print('b'); print('c')", enter=True, wait="^b$")
    assert sent.output == "a\nb"
    # The next wait starts after that match.
    assert py.wait_text("^c$").group() == "c"
    # The match's line whole (as 'wait' prints it): not 'Serving' without its port.
    sent = py.send("print('Serving on port 8000')", enter=True, wait="Serving")
    assert sent.output == "Serving on port 8000"


def test_paste_and_keys_wait_too(py: tmuxagent.Session) -> None:
    sent = py.paste("def f(x):\n    return x * 3\n\n", enter=True, wait=">>> $")
    assert sent.output is not None and sent.output.endswith(">>> ")
    assert py.send("f(14)", enter=True, wait=r"^\d+$").output == "42"
    py.send("import time; time.sleep(30)", enter=True)
    keys = py.keys("C-c", wait="^KeyboardInterrupt$")
    assert keys.output is not None and keys.output.endswith("KeyboardInterrupt")


def test_wait_idle_gives_all_the_new_output(py: tmuxagent.Session) -> None:
    sent = py.send("for i in range(3): print(i)\n", enter=True, wait_idle=0.3)
    assert sent.output is not None
    assert [ln for ln in sent.output.split("\n") if ln.isdigit()] == ["0", "1", "2"]


def test_wait_prompt_gives_the_commands_output_and_status(shell: tmuxagent.Session) -> None:
    sent = shell.send("echo one; echo two; false", enter=True, wait_prompt=True)
    assert (sent.output, sent.exit_code) == ("one\ntwo", 1)


def test_start_waits_and_keeps_what_it_saw(ta: tmuxagent.Server) -> None:
    code = "print('banner'); input('ready> ')"
    session = ta.start("b", [sys.executable, "-c", code], wait="ready> $")
    assert session.started is not None
    assert session.started.output == "banner\nready> "
    assert ta.start("c", ["cat"]).started is None


def test_a_bad_wait_types_nothing(ta: tmuxagent.Server, tmp_path: Path) -> None:
    out = tmp_path / "got"
    session = ta.start("cat", ["sh", "-c", f"cat > {out}"])
    for bad in ({"wait": "("}, {"wait": "x", "wait_idle": 1.0}, {"wait_prompt": True},
                {"wait": "x", "timeout": -1.0}, {"wait_idle": 5.0, "timeout": 1.0}):  # fmt: skip
        with pytest.raises(tmuxagent.UsageError):
            session.send("typed", enter=True, **bad)  # type: ignore[arg-type]
    session.send("end", enter=True)
    session.keys("C-d")
    session.wait_exit(timeout=10)
    assert out.read_text() == "end\n"


def test_a_step_times_out_or_sees_the_program_exit(py: tmuxagent.Session) -> None:
    with pytest.raises(tmuxagent.WaitTimeout):
        py.send("print('x')", enter=True, wait="^never$", timeout=0.5)
    with pytest.raises(tmuxagent.ProgramExited):
        py.send("exit(3)", enter=True, wait="^never$", timeout=10)


def test_the_cli_step(cli: CLI) -> None:
    out = cli.ok("start", "py", "--env", "PYTHON_BASIC_REPL=1", "--wait", ">>> $", "--", *PY)
    assert out.splitlines()[0].startswith("started 'py'")
    assert out.splitlines()[-1] == ">>> "
    assert cli.ok("send", "py", "--enter", "print(6 * 7)", "--wait", r"^\d+$") == "42\n"
    data = json.loads(cli.ok("send", "py", "--enter", "--json", "--wait", "^b$", "print('b')"))
    assert data == {"name": "py", "enter": True, "retried": False, "output": "b", "match": "b"}
    timed_out = cli("send", "py", "--enter", "print(1)", "--wait", "^never$", "--timeout", "0.5")
    assert timed_out.returncode == 1 and "timed out" in timed_out.stderr
    both = cli("keys", "py", "Enter", "--wait", "x", "--wait-idle", "1")
    assert both.returncode == 2 and "one thing" in both.stderr
    exited = cli("send", "py", "--enter", "exit(4)", "--wait", "^never$")
    assert exited.returncode == 3


def test_the_cli_step_in_the_agent_shell(cli: CLI, ta: tmuxagent.Server) -> None:
    started = json.loads(cli.ok("start", "sh", "--json", "--wait", r"\$ $"))
    assert started["shell"] and started["output"].endswith("$ ")
    done = cli("send", "sh", "--enter", "--wait-prompt", "echo hi; (exit 3)")
    assert (done.returncode, done.stdout, done.stderr) == (0, "hi\n", "[exit status 3]\n")
