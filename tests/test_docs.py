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
runs. The commands SKILL.md gives inline, in its prose, run too: see
:func:`test_skill_inline_commands`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
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
#: What a command prints, said in its comment: ``# -> VALUE``.
_PRINTS = re.compile(r"# -> (\S+)")
_SHELLS = {"sh", "shell", "zsh", "console", "shell-session", "bash-session"}


def blocks(path: Path) -> list[tuple[str, str, str | None]]:
    """(language, code, text an interactive block shows) of each runnable block."""
    found = []
    for m in _BLOCK.finditer(path.read_text()):
        # A shell block must say bash, so that it is run (not skipped as text).
        assert m["lang"] not in _SHELLS, f"{path.name}: a ```{m['lang']} block: make it ```bash"
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
    # A failure inside a pipe or $(...) counts too; bash's line 1 is the trap's.
    script = f"set -E -o pipefail; trap 'echo \"$LINENO $?\" >> {failures}' ERR\n" + code
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
    for value in _PRINTS.findall(code):
        assert value in proc.stdout, f"the block says it prints {value!r}{report}"


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


# -- the commands in SKILL.md's prose -----------------------------------------

#: A code span (fenced blocks are taken out first) and the text right after it.
_SPAN = re.compile(r"`([^`]+)`([^`]*)")
#: A span that runs one of the skill's scripts: ``scripts/NAME.sh`` and arguments.
_COMMAND = re.compile(r"scripts/[\w-]+\.sh\s")
#: The text right after a command that says it fails, and how: ``(exit N``.
_SPAN_EXIT = re.compile(r"\s*\(exit (\d+)\b")

#: Files the recipes name, made in the folder the commands run from.
RECIPE_FILES = {
    "block.py": "def twice(n):\n    return 2 * n\n\n",
    "buggy.py": "def f(n):\n    total = n * 3\n    return total\n\n\nprint(f(14))\n",
    "long.txt": "".join(f"row {i}\n" for i in range(1, 501)),
    "notes.txt": "hello\nworld\n",
    "crash.c": "#include <stdio.h>\nint main(void) {\n    int *p = 0;\n    int x = 41;\n"
    '    printf("%d\\n", x + 1);\n    return *p;\n}\n',
}

#: A stand-in for another agent's CLI (the recipe starts ``claude``): Claude
#: Code's screens, drawn by tests/programs/fake_agent.py.
FAKE_AGENT = f"""#!/bin/sh
exec {sys.executable} {ROOT / "tests" / "programs" / "fake_agent.py"} claude --work 1 "$@"
"""

#: How a session is started when a command names it before SKILL.md starts it.
SESSION_SETUP = {
    "py": ["--env", "PYTHON_BASIC_REPL=1", "--wait", ">>> $", "--", "python3", "-q"],
    "sh": [],
    "web": ["--wait", "Serving", "--", "python3", "-m", "http.server", "0", "--bind", "127.0.0.1"],
}


def _request_web(server: tmuxagent.Server) -> None:
    """The request that the dev server recipe's reader makes from their shell."""
    import urllib.request

    serving = server.session("web").transcript()
    port = re.findall(r"port (\d+)", serving)[-1]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
        reply.read()


#: What the reader does (outside the skill's scripts) before a command that
#: starts as given: the request whose log line the dev server recipe awaits.
BEFORE = {"scripts/wait-for-text.sh web ": _request_web}

#: Sessions of optional programs: their commands are skipped when it is absent.
SESSION_NEEDS = {"gdb": "gdb", "pager": "less", "v": "vim"}


def inline_commands(path: Path) -> list[tuple[str, int]]:
    """(command, exit code it should have) of each command in the prose, in order.

    A command is a code span that starts ``scripts/NAME.sh`` followed by
    arguments; it must exit 0, unless the text right after its span starts
    with ``(exit N`` (then N). A span that gives a script arguments without
    the ``scripts/`` prefix (a template such as ``send-keys.sh NAME y``) is
    refused: written so, it would never be run. Commands stay on one line.
    """
    prose = _BLOCK.sub(lambda m: m["pre"] + "\n", path.read_text())
    found = []
    for m in _SPAN.finditer(prose):
        span = m[1]
        if not _COMMAND.match(span):
            assert not re.search(r"\.sh\s+\S", span), (
                f"{span!r}: a command must be written 'scripts/NAME.sh ...' to be run by the tests"
            )
            continue
        assert "\n" not in span, f"{span!r}: keep a command on one line"
        expect = _SPAN_EXIT.match(m[2])
        found.append((span, int(expect[1]) if expect else 0))
    return found


def human_commands(path: Path) -> list[str]:
    """The ``tmuxagent VERB`` spans that SKILL.md tells the agent to give the human."""
    prose = _BLOCK.sub(lambda m: m["pre"] + "\n", path.read_text())
    return [m[1] for m in _SPAN.finditer(prose) if m[1].startswith("tmuxagent ")]


def session_of(command: str) -> str | None:
    """The session a command names: the first argument of a script, the
    second of ``tmuxagent.sh VERB NAME``."""
    words = shlex.split(command)
    if words[0].endswith("/tmuxagent.sh"):
        words = words[1:]
    name = words[1] if len(words) > 1 else None
    return None if name is None or name.startswith("-") else name


def _recipe_place(skill: Path, env: dict[str, str]) -> None:
    """The recipes' files in ``skill`` (where the commands run) and the fake
    agent CLI on PATH; ``./prog`` crashes (or is ``true`` without a compiler)."""
    for name, text in RECIPE_FILES.items():
        (skill / name).write_text(text)
    compiler = shutil.which("cc") or shutil.which("gcc")
    built = compiler and subprocess.run(
        [compiler, "-g", "-O0", "-o", "prog", "crash.c"], cwd=skill, capture_output=True,
        check=False,
    ).returncode == 0  # fmt: skip
    if not built:
        shutil.copy(shutil.which("true") or "/bin/true", skill / "prog")
    fakes = skill.parent / "fake-bin"
    fakes.mkdir()
    (fakes / "claude").write_text(FAKE_AGENT)
    (fakes / "claude").chmod(0o755)
    env["PATH"] = f"{fakes}{os.pathsep}{env['PATH']}"


SKILL_COMMANDS = inline_commands(ROOT / "skills" / "tmux" / "SKILL.md")


def test_skill_inline_commands(place: tuple[Path, dict[str, str]]) -> None:
    """Every command SKILL.md gives in its prose runs as written, in order,
    from a copy of the skill, so the skill never shows a call the CLI
    refuses. They run in one scenario: a command naming a session that does
    not exist yet gets it started first (:data:`SESSION_SETUP`), a
    ``start-session.sh NAME`` replaces a session of that name, and commands of
    a session whose program is not installed are skipped
    (:data:`SESSION_NEEDS`). Each must exit 0, or the code the text right
    after it gives (``(exit N``). The commands to give the human
    (``tmuxagent VERB``) must be verbs the CLI knows."""
    cwd, env = place
    skill = install_skill(cwd.parent / "skills")
    _recipe_place(skill, env)
    server = tmuxagent.Server(env["TMUXAGENT_SOCKET"])

    def sh(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command], cwd=skill, env=env, capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip

    ran = 0
    for command, status in SKILL_COMMANDS:
        name = session_of(command)
        if name in SESSION_NEEDS and shutil.which(SESSION_NEEDS[name]) is None:
            continue
        exists = name is not None and any(s.name == name for s in server.sessions())
        if command.startswith("scripts/start-session.sh "):
            if exists:
                server.session(name).kill()
        elif name in SESSION_SETUP and not exists:
            start = ["scripts/start-session.sh", name, *SESSION_SETUP[name]]
            assert sh(shlex.join(start)).returncode == 0, start
        for start, do in BEFORE.items():
            if command.startswith(start):
                do(server)
        proc = sh(command)
        assert proc.returncode == status, (
            f"{command!r} exited {proc.returncode}, the skill says {status}"
            f"\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
        ran += 1
    assert ran >= 30, ran
    for command in human_commands(ROOT / "skills" / "tmux" / "SKILL.md"):
        proc = sh(f"{command} --help")
        assert proc.returncode == 0, f"{command!r}: {proc.stderr}"


def test_skill_commands_cover_every_script() -> None:
    """Each of the skill's scripts is shown in at least one command that runs."""
    shown = {shlex.split(command)[0] for command, _ in SKILL_COMMANDS}
    scripts = {f"scripts/{p.name}" for p in (ROOT / "skills" / "tmux" / "scripts").glob("*.sh")}
    assert scripts <= shown, scripts - shown


def test_the_readmes_verb_table_names_every_option() -> None:
    """Each verb's row in the README's table names exactly the options it has."""
    from tmuxagent.cli import VERBS

    rows = [ln for ln in (ROOT / "README.md").read_text().splitlines() if ln.startswith("| `")]
    seen = set()
    for row in rows:
        cell = row.split(" | ")[0]
        for usage in re.findall(r"`([^`]+)`", cell):
            verb = VERBS.get(usage.split()[0])
            if verb is None:
                continue
            seen.add(verb.name)
            named = set(re.findall(r"--[a-z][a-z-]*", usage)) - {"--"}
            if "[STEP]" in usage:
                named |= {"--wait", "--wait-idle", "--wait-prompt", "--timeout"}
            assert named == set(verb.options), f"{verb.name}: {sorted(named ^ set(verb.options))}"
    assert seen == set(VERBS), f"verbs without a row: {sorted(set(VERBS) - seen)}"
