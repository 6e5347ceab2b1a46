"""The agent skill: valid, installable, and its scripts work from a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, ROOT, needs
from tmuxagent._skill import install_skill

SKILL = ROOT / "skills" / "tmux"


def test_skill_validates() -> None:
    validator = shutil.which("agentskills") or str(Path(sys.executable).parent / "agentskills")
    proc = subprocess.run(
        [validator, "validate", str(SKILL)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (SKILL / "SKILL.md").read_text()
    assert len(text.splitlines()) < 500
    for script in (SKILL / "scripts").glob("*.sh"):
        assert os.access(script, os.X_OK), script
        assert f"scripts/{script.name}" in text or script.name == "tmuxagent.sh"


def test_skill_install(tmp_path: Path, cli: CLI) -> None:
    target = install_skill(tmp_path / "skills")
    assert (target / "SKILL.md").read_text() == (SKILL / "SKILL.md").read_text()
    install_skill(tmp_path / "skills")  # a second install replaces the first
    out = cli.ok("skill", "install", str(tmp_path / "other"))
    assert str(tmp_path / "other" / "tmux") in out
    (tmp_path / "taken" / "tmux").mkdir(parents=True)
    assert cli("skill", "install", str(tmp_path / "taken")).returncode == 2
    home = tmp_path / "home"
    cli.ok("skill", "install", env={"HOME": str(home)})
    assert (home / ".claude" / "skills" / "tmux" / "SKILL.md").is_file()


@pytest.fixture
def scripts(tmp_path: Path, ta: tmuxagent.Server) -> tuple[Path, dict[str, str]]:
    """The skill copied away from the repository, with the test server as default."""
    copy = install_skill(tmp_path / "installed") / "scripts"
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, "TMUXAGENT_SOCKET": str(ta.socket_path)}
    return copy, env


def run(
    scripts: tuple[Path, dict[str, str]], name: str, *args: str
) -> subprocess.CompletedProcess[str]:
    folder, env = scripts
    return subprocess.run(
        [str(folder / name), *args], capture_output=True, text=True, env=env, timeout=60,
        cwd="/", check=False,
    )  # fmt: skip


def test_scripts_drive_a_repl(scripts: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """One call per step: start and wait, then type, wait and print the answer."""
    started = run(scripts, "start-session.sh", "py", "--env", "PYTHON_BASIC_REPL=1",
                  "--wait", ">>> $", "--", "python3", "-q")  # fmt: skip
    assert started.returncode == 0 and "attach -t =py:" in started.stdout
    assert started.stdout.endswith("\n>>> \n")  # the output ends a line
    step = run(scripts, "send-text.sh", "py", "--enter", "x = 6 * 7; x", "--wait", ">>> $")
    assert step.returncode == 0 and step.stdout == "42\n>>> \n"
    block = tmp_path / "block.py"
    block.write_text("def twice(n):\n    return 2 * n\n\n")
    pasted = run(scripts, "paste.sh", "py", str(block), "--enter", "--wait", ">>> $")
    assert pasted.returncode == 0
    step = run(scripts, "send-text.sh", "py", "--enter", "twice(21)", "--wait", ">>> $",
               "--timeout", "5", "--json")  # fmt: skip
    assert step.returncode == 0 and '"output": "42\\n>>> "' in step.stdout
    assert ">>> twice(21)" in run(scripts, "capture-pane.sh", "py").stdout
    assert "twice(21)" in run(scripts, "read-output.sh", "py").stdout
    stuck = run(scripts, "send-text.sh", "py", "--enter", "import time; time.sleep(600)",
                "--wait", ">>> $", "--timeout", "0.5")  # fmt: skip
    assert stuck.returncode == 1 and "timed out" in stuck.stderr
    interrupted = run(scripts, "send-keys.sh", "py", "C-c", "--wait", ">>> $")
    assert interrupted.returncode == 0 and "KeyboardInterrupt" in interrupted.stdout
    bad = run(scripts, "send-text.sh", "py", "--enter", "never typed", "--wait", "(")
    assert bad.returncode == 2
    assert "never typed" not in run(scripts, "capture-pane.sh", "py").stdout
    run(scripts, "send-keys.sh", "py", "C-d")
    assert run(scripts, "wait-for-text.sh", "py", "never", "--timeout", "5").returncode == 3
    timed = run(scripts, "wait-for-text.sh", "py")
    assert timed.returncode == 2 and "usage" in timed.stderr


def test_scripts_separate_waits(scripts: tuple[Path, dict[str, str]]) -> None:
    """wait-for-text.sh and wait-idle.sh take --timeout S as the CLI does
    (and the older bare TIMEOUT); a wrong option is the CLI's to refuse."""
    run(scripts, "start-session.sh", "py", "--env", "PYTHON_BASIC_REPL=1", "--wait", ">>> $",
        "--", "python3", "-q")  # fmt: skip
    run(scripts, "send-text.sh", "py", "--enter", "print(6 * 7)")
    waited = run(scripts, "wait-for-text.sh", "py", "^42$", "--timeout", "5")
    assert waited.returncode == 0 and waited.stdout == "42\n"
    run(scripts, "send-text.sh", "py", "--enter", "print(6 * 7)")
    assert run(scripts, "wait-for-text.sh", "py", "^42$", "--timeout=5").returncode == 0
    run(scripts, "send-text.sh", "py", "--enter", "print(6 * 7)")
    assert run(scripts, "wait-for-text.sh", "py", "^42$", "5").returncode == 0
    assert run(scripts, "wait-for-text.sh", "py", "never", "--timeout", "0.3").returncode == 1
    assert run(scripts, "wait-for-text.sh", "py", "-", "--timeout", "0.3").returncode == 1
    wrong = run(scripts, "wait-for-text.sh", "py", "x", "--timeot", "3")
    assert wrong.returncode == 2
    wrong = run(scripts, "wait-for-text.sh", "py", "x", "--timeot")
    assert wrong.returncode == 2 and "--timeot" in wrong.stderr
    assert run(scripts, "wait-for-text.sh", "py", "x", "--timeout").returncode == 2
    assert run(scripts, "wait-idle.sh", "py", "0.2", "--timeout", "5").returncode == 0
    assert run(scripts, "wait-idle.sh", "py", "0.2", "5").returncode == 0
    assert run(scripts, "wait-idle.sh", "py", "--timeout", "5").returncode == 0
    assert run(scripts, "wait-idle.sh", "py", "5", "--timeout", "0.3").returncode == 2


def test_scripts_run_commands(scripts: tuple[Path, dict[str, str]]) -> None:
    assert run(scripts, "start-session.sh", "sh").returncode == 0
    done = run(scripts, "run-command.sh", "sh", "echo a; echo b >&2; exit_ 2>/dev/null; false")
    assert done.stdout == "a\nb\n" and done.stderr == "[exit status 1]\n"
    done = run(scripts, "run-command.sh", "sh", "echo a", "--timeout", "10", "--json")
    assert done.returncode == 0 and '"exit_code": 0' in done.stdout
    assert run(scripts, "run-command.sh", "sh", "echo a", "--timeout=10").stdout == "a\n"
    assert run(scripts, "run-command.sh", "sh", "--help", "10").stderr == "[exit status 127]\n"
    typed = run(scripts, "send-text.sh", "sh", "--enter", "echo typed; false", "--wait-prompt")
    assert typed.stdout == "typed\n" and typed.stderr == "[exit status 1]\n"
    assert run(scripts, "wait-idle.sh", "sh", "0.3", "--timeout", "10").returncode == 0
    assert run(scripts, "send-keys.sh", "sh", "Entr").returncode == 2
    slow = run(scripts, "run-command.sh", "sh", "sleep 10", "--timeout", "0.3")
    assert slow.returncode == 1
    assert run(scripts, "send-keys.sh", "sh", "C-c", "--wait-prompt").returncode == 0
    slow = run(scripts, "run-command.sh", "sh", "sleep 10", "0.3")  # the older bare TIMEOUT
    assert slow.returncode == 1


def test_scripts_without_tmuxagent(scripts: tuple[Path, dict[str, str]]) -> None:
    folder, env = scripts
    bare = {**env, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [str(folder / "capture-pane.sh"), "x"], capture_output=True, text=True, env=bare,
        cwd="/", check=False,
    )  # fmt: skip
    if proc.returncode != 4:  # a system python3 may have tmuxagent installed
        pytest.skip("tmuxagent is importable from the system Python")
    assert "setup.sh" in proc.stderr


def test_recipe_pdb(scripts: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    program = tmp_path / "buggy.py"
    program.write_text("def f(n):\n    total = n * 3\n    return total\n\nprint(f(14))\n")
    prompt = r"^\(Pdb\) $"
    started = run(scripts, "start-session.sh", "dbg", "--wait", prompt, "--", "python3", "-m",
                  "pdb", str(program))  # fmt: skip
    assert started.returncode == 0 and started.stdout.endswith("(Pdb) \n")
    assert run(scripts, "send-text.sh", "dbg", "--enter", "b 3", "--wait", prompt).returncode == 0
    assert "-> return total" in run(scripts, "send-text.sh", "dbg", "--enter", "c",
                                    "--wait", prompt).stdout  # fmt: skip
    step = run(scripts, "send-text.sh", "dbg", "--enter", "p total", "--wait", prompt)
    assert step.stdout == "42\n(Pdb) \n"


@needs("gdb")
def test_recipe_gdb(scripts: tuple[Path, dict[str, str]]) -> None:
    prompt = r"\(gdb\) $"
    started = run(scripts, "start-session.sh", "gdb", "--wait", prompt, "--", "gdb", "-q",
                  "-nx", "/bin/true")  # fmt: skip
    assert started.returncode == 0
    step = run(scripts, "send-text.sh", "gdb", "--enter", "print 6 * 7", "--wait", prompt)
    assert step.returncode == 0 and step.stdout.startswith("$1 = 42\n")


@needs("less")
def test_recipe_less(scripts: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    text = tmp_path / "long.txt"
    text.write_text("".join(f"row {i}\n" for i in range(1, 501)))
    started = run(scripts, "start-session.sh", "pager", "--wait", "^row 1$", "--", "less",
                  str(text))  # fmt: skip
    assert started.returncode == 0
    assert run(scripts, "send-keys.sh", "pager", "G", "--wait", "^row 500$").returncode == 0
    assert "row 500" in run(scripts, "capture-pane.sh", "pager").stdout
    run(scripts, "send-keys.sh", "pager", "q")
    assert run(scripts, "wait-for-text.sh", "pager", "never", "--timeout", "5").returncode == 3


def test_recipe_answer_a_question(scripts: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """A question is answered with text and Enter, in the step that waits for what follows."""
    asker = tmp_path / "asker.py"
    asker.write_text('while True:\n    a = input("Go on? (y/n) ")\n    print("got", a)\n')
    started = run(scripts, "start-session.sh", "ask", "--wait", r"\(y/n\) $", "--", "python3",
                  str(asker))  # fmt: skip
    assert started.returncode == 0
    answered = run(scripts, "send-text.sh", "ask", "--enter", "y", "--wait", r"\(y/n\) $")
    assert answered.returncode == 0 and answered.stdout == "got y\nGo on? (y/n) \n"


def test_scripts_refuse_unquoted_arguments(scripts: tuple[Path, dict[str, str]]) -> None:
    run(scripts, "start-session.sh", "sh")
    for name, args in (("run-command.sh", ["sh", "echo", "hi"]),
                       ("run-command.sh", ["sh", "echo hi", "--timeout", "5", "extra"]),
                       ("wait-for-text.sh", ["sh", "a", "1", "extra"]),
                       ("wait-for-text.sh", ["sh", "a", "b"]),
                       ("wait-idle.sh", ["sh", "1", "2", "3"])):  # fmt: skip
        proc = run(scripts, name, *args)
        assert proc.returncode == 2 and "usage" in proc.stderr, (name, proc.stderr)


def test_recipe_wait_for_a_long_command(scripts: tuple[Path, dict[str, str]]) -> None:
    run(scripts, "start-session.sh", "sh")
    slow = run(scripts, "run-command.sh", "sh", "sleep 1; echo late; false", "--timeout", "0.2")
    assert slow.returncode == 1 and "--prompt" in slow.stderr
    done = run(scripts, "tmuxagent.sh", "wait", "sh", "--prompt", "--timeout", "20")
    assert done.stdout == "late\n" and done.stderr == "[exit status 1]\n"


def test_scripts_are_plain_bash() -> None:
    """Every script parses, runs with ``set -u``, and passes shellcheck where it is installed."""
    names = sorted((SKILL / "scripts").glob("*.sh"))
    for script in names:
        assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0, script
        assert "\nset -u\n" in script.read_text(), script
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed")
    proc = subprocess.run([shellcheck, *map(str, names)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout
