"""The examples in README.md and skills/tmux/SKILL.md run as written.

Every fenced ``bash`` and ``python`` block is run, in an empty directory of
its own, against a private server (``$TMUXAGENT_SOCKET``), with the
``tmuxagent`` command on PATH as the README says to put it; the skill's
blocks run from a copy of the skill folder, as an agent finds it. A command
may fail only where its comment says so (``# exit N`` on its line). A block
preceded by ``<!-- docs-test: interactive 'TEXT' -->`` is a program for a
human at a terminal: it runs in a pane until TEXT shows, then gets ``q``.
The README's first block (set up, run the tests) is what CI and the fresh
machine replay run; here only its commands are checked to be the ones CI
runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import ROOT
from tmuxagent._skill import install_skill

#: A fenced block: its indentation, language, the line before it, its text.
_BLOCK = re.compile(
    r"^(?P<pre>[^\n]*)\n(?P<indent> *)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```", re.M | re.S
)
_INTERACTIVE = re.compile(r"<!-- docs-test: interactive '(.+)' -->")
_EXIT = re.compile(r"#.*\bexit (\d+)\b")


def blocks(path: Path) -> list[tuple[str, str, str | None]]:
    """(language, code, text an interactive block shows) of each runnable block."""
    found = []
    for m in _BLOCK.finditer(path.read_text()):
        if m["lang"] not in ("bash", "python"):
            continue
        indent = len(m["indent"])
        code = "".join(line[indent:] + "\n" for line in m["body"].splitlines())
        interactive = _INTERACTIVE.search(m["pre"])
        found.append((m["lang"], code, interactive[1] if interactive else None))
    return found


README = blocks(ROOT / "README.md")
SKILL = blocks(ROOT / "skills" / "tmux" / "SKILL.md")


def _ids(prefix: str, items: list[tuple[str, str, str | None]]) -> list[str]:
    return [f"{prefix}-{i}-{lang}" for i, (lang, _, _) in enumerate(items)]


@pytest.fixture
def place(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """An empty working directory and the environment of a new user's shell
    with ``.venv/bin`` on PATH; the private server it used is killed after."""
    work = tmp_path / "work"
    work.mkdir()
    sockets = tmp_path / "sockets"
    sockets.mkdir(mode=0o700)
    socket = sockets / "default"
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "TMUXAGENT_SOCKET": str(socket),
        "HOME": str(tmp_path),
    }
    env.pop("TMUX", None)
    yield work, env
    if socket.exists():
        tmuxagent.Server(str(socket)).kill_all()


def run_bash(code: str, cwd: Path, env: dict[str, str]) -> None:
    """Run ``code``; every command that fails must say so, with its code."""
    failures = cwd.parent / "failures"
    script = (
        f"trap 'echo \"$LINENO $?\" >> {failures}' ERR\n"  # bash's line numbers: 1 is this one
        + code
    )
    proc = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    lines = script.splitlines()
    failed = {}
    if failures.exists():
        for entry in failures.read_text().split("\n"):
            if entry:
                number, code_ = entry.split()
                failed[int(number)] = int(code_)
    expected = {i: int(m[1]) for i, line in enumerate(lines, 1) if (m := _EXIT.search(line))}
    report = f"\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    for number, status in failed.items():
        assert expected.get(number) == status, (
            f"line {number - 1} of the block failed with {status}: {lines[number - 1]!r}{report}"
        )
    for number, status in expected.items():
        assert failed.get(number) == status, (
            f"line {number - 1} should exit {status}: {lines[number - 1]!r}{report}"
        )


def run_python(code: str, cwd: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"


def run_interactive(code: str, shows: str, env: dict[str, str], cwd: Path) -> None:
    """A program for a terminal: run in a pane of the same server, until it shows ``shows``."""
    server = tmuxagent.Server(env["TMUXAGENT_SOCKET"])
    path_env = {"PATH": env["PATH"], "TMUXAGENT_SOCKET": env["TMUXAGENT_SOCKET"]}
    session = server.start("docs", ["bash", "-c", code], cwd=str(cwd), env=path_env)
    session.wait_text(re.escape(shows), timeout=60)
    session.keys("q")
    session.wait_exit(timeout=30)


@pytest.mark.parametrize(("lang", "code", "shows"), README[1:], ids=_ids("readme", README)[1:])
def test_readme_example(
    lang: str, code: str, shows: str | None, place: tuple[Path, dict[str, str]]
) -> None:
    cwd, env = place
    if shows is not None:
        run_interactive(code, shows, env, cwd)
    elif lang == "bash":
        run_bash(code, cwd, env)
    else:
        run_python(code, cwd, env)


@pytest.mark.parametrize(("lang", "code", "shows"), SKILL, ids=_ids("skill", SKILL))
def test_skill_example(
    lang: str, code: str, shows: str | None, place: tuple[Path, dict[str, str]]
) -> None:
    cwd, env = place
    skill = install_skill(cwd.parent / "skills")
    assert lang == "bash" and shows is None
    run_bash(code, skill, env)


def test_readme_opens_with_what_ci_runs() -> None:
    """The README's first block: set up and demo, set up and test; CI runs the same."""
    _, code, _ = README[0]
    commands = [line.split("#")[0].strip() for line in code.splitlines() if line.strip()]
    assert commands[:2] == [
        "./setup.sh && .venv/bin/tmuxagent demo",
        "./setup.sh && .venv/bin/python -m pytest",
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./setup.sh" in ci and ".venv/bin/python -m pytest" in ci


def test_the_demos_hints_run_as_printed(place: tuple[Path, dict[str, str]]) -> None:
    """Run as the README's first command runs it (not on PATH), the demo's
    hints name the CLI by the path that works, and say how to put it on PATH."""
    cwd, env = place
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    relative = os.path.relpath(Path(venv_bin) / "tmuxagent", cwd)
    demo = subprocess.run(
        [relative, "demo"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    kill = next(line for line in demo.stdout.splitlines() if "kill demo" in line)
    export = demo.stdout.splitlines()[-1]
    assert export.startswith("To call it as 'tmuxagent': export PATH=")
    script = f"{kill.split('#')[0]}\n{export.split(': ', 1)[1]}\ntmuxagent list\n"
    after = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert after.returncode == 0, after.stdout + after.stderr
    assert "demo" not in after.stdout
