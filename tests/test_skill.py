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
    started = run(scripts, "start-session.sh", "py", "--env", "PYTHON_BASIC_REPL=1", "--",
                  "python3", "-q")  # fmt: skip
    assert started.returncode == 0 and "attach -t =py:" in started.stdout
    assert run(scripts, "wait-for-text.sh", "py", ">>> $").returncode == 0
    assert run(scripts, "send-text.sh", "py", "--enter", "x = 6 * 7; x").returncode == 0
    waited = run(scripts, "wait-for-text.sh", "py", "^42$", "5")
    assert waited.returncode == 0 and waited.stdout == "42\n"
    block = tmp_path / "block.py"
    block.write_text("def twice(n):\n    return 2 * n\n\n")
    assert run(scripts, "paste.sh", "py", str(block), "--enter").returncode == 0
    run(scripts, "send-text.sh", "py", "--enter", "twice(21)")
    assert run(scripts, "wait-for-text.sh", "py", "^42$").returncode == 0
    assert ">>> twice(21)" in run(scripts, "capture-pane.sh", "py").stdout
    assert "twice(21)" in run(scripts, "read-output.sh", "py").stdout
    run(scripts, "send-keys.sh", "py", "C-d")
    assert run(scripts, "wait-for-text.sh", "py", "never", "5").returncode == 3
    timed = run(scripts, "wait-for-text.sh", "py")
    assert timed.returncode == 2 and "usage" in timed.stderr


def test_scripts_run_commands(scripts: tuple[Path, dict[str, str]]) -> None:
    assert run(scripts, "start-session.sh", "sh").returncode == 0
    done = run(scripts, "run-command.sh", "sh", "echo a; echo b >&2; exit_ 2>/dev/null; false")
    assert done.stdout == "a\nb\n" and done.stderr == "[exit status 1]\n"
    assert run(scripts, "wait-idle.sh", "sh", "0.3", "10").returncode == 0
    assert run(scripts, "send-keys.sh", "sh", "Entr").returncode == 2
    slow = run(scripts, "run-command.sh", "sh", "sleep 10", "0.3")
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
    run(scripts, "start-session.sh", "dbg", "--", "python3", "-m", "pdb", str(program))
    assert run(scripts, "wait-for-text.sh", "dbg", r"^\(Pdb\) $").returncode == 0
    run(scripts, "send-text.sh", "dbg", "--enter", "b 3")
    run(scripts, "wait-for-text.sh", "dbg", r"^\(Pdb\) $")
    run(scripts, "send-text.sh", "dbg", "--enter", "c")
    run(scripts, "wait-for-text.sh", "dbg", r"^\(Pdb\) $")
    run(scripts, "send-text.sh", "dbg", "--enter", "p total")
    assert run(scripts, "wait-for-text.sh", "dbg", r"^42$").returncode == 0


@needs("gdb")
def test_recipe_gdb(scripts: tuple[Path, dict[str, str]]) -> None:
    run(scripts, "start-session.sh", "gdb", "--", "gdb", "-q", "-nx", "/bin/true")
    assert run(scripts, "wait-for-text.sh", "gdb", r"\(gdb\) $").returncode == 0
    run(scripts, "send-text.sh", "gdb", "--enter", "print 6 * 7")
    assert run(scripts, "wait-for-text.sh", "gdb", r"\$1 = 42").returncode == 0


@needs("less")
def test_recipe_less(scripts: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    text = tmp_path / "long.txt"
    text.write_text("".join(f"row {i}\n" for i in range(1, 501)))
    run(scripts, "start-session.sh", "pager", "--", "less", str(text))
    assert run(scripts, "wait-for-text.sh", "pager", "^row 1$").returncode == 0
    run(scripts, "send-keys.sh", "pager", "G")
    assert run(scripts, "wait-for-text.sh", "pager", "^row 500$").returncode == 0
    assert "row 500" in run(scripts, "capture-pane.sh", "pager").stdout
    run(scripts, "send-keys.sh", "pager", "q")
    assert run(scripts, "wait-for-text.sh", "pager", "never", "5").returncode == 3


def test_scripts_refuse_unquoted_arguments(scripts: tuple[Path, dict[str, str]]) -> None:
    run(scripts, "start-session.sh", "sh")
    for name, args in (("run-command.sh", ["sh", "echo", "hi"]),
                       ("wait-for-text.sh", ["sh", "a", "1", "extra"]),
                       ("wait-idle.sh", ["sh", "1", "2", "3"])):  # fmt: skip
        proc = run(scripts, name, *args)
        assert proc.returncode == 2 and "usage" in proc.stderr, (name, proc.stderr)


def test_recipe_wait_for_a_long_command(scripts: tuple[Path, dict[str, str]]) -> None:
    run(scripts, "start-session.sh", "sh")
    slow = run(scripts, "run-command.sh", "sh", "sleep 1; echo late; false", "0.2")
    assert slow.returncode == 1 and "--prompt" in slow.stderr
    done = run(scripts, "tmuxagent.sh", "wait", "sh", "--prompt", "--timeout", "20")
    assert done.stdout == "late\n" and done.stderr == "[exit status 1]\n"
