"""Shared fixtures: a private tmux server per test (libtmux's pytest plugin),
tmuxagent on top of it, the CLI as a subprocess, and tiny fake programs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import libtmux
import pytest

import tmuxagent

PROGRAMS = Path(__file__).parent / "programs"
ROOT = Path(__file__).resolve().parent.parent


def needs(*programs: str) -> pytest.MarkDecorator:
    """Skip a test when an optional program it drives is not installed
    (README: "Tests that need optional programs")."""
    import shutil

    absent = [p for p in programs if shutil.which(p) is None]
    return pytest.mark.skipif(bool(absent), reason=f"not installed: {', '.join(absent)}")


def prog(name: str, *args: str) -> list[str]:
    """argv that runs one of tests/programs with this Python."""
    return [sys.executable, str(PROGRAMS / name), *args]


def socket_of(server: libtmux.Server) -> Path:
    tmpdir = os.environ.get("TMUX_TMPDIR", "/tmp")
    return Path(tmpdir) / f"tmux-{os.geteuid()}" / str(server.socket_name)


def wait_until(check: Callable[[], object], timeout: float = 10.0, what: str = "") -> object:
    """Poll ``check`` until it returns something truthy (no bare sleeps in tests)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.01)


def raw_session(
    ta: tmuxagent.Server, tmp_path: Path, name: str = "raw", *args: str
) -> tuple[tmuxagent.Session, Path]:
    """A session of tests/programs/raw_reader.py, ready: it records every byte
    it gets in raw mode into a file (see :func:`finish_raw`)."""
    out = tmp_path / f"{name}.bin"
    session = ta.start(name, prog("raw_reader.py", str(out), *args))
    session.wait_text("ready")
    return session, out


def finish_raw(session: tmuxagent.Session, out: Path) -> bytes:
    """End a :func:`raw_session`; the bytes it got."""
    session.keys("C-]")
    session.wait_text(r"GOT \d+")
    return out.read_bytes()


@pytest.fixture(scope="session", autouse=True)
def _isolated_default_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test may reach the user's tmux or tmuxagent server (or profiles) by accident."""
    default_tmux = Path(f"/tmp/tmux-{os.geteuid()}/default")
    existed = default_tmux.exists()
    names = ("TMUXAGENT_SOCKET", "TMUXAGENT_SOCKET_DIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
    saved = {k: os.environ.get(k) for k in names}
    os.environ.pop("TMUXAGENT_SOCKET", None)
    os.environ["TMUXAGENT_SOCKET_DIR"] = str(tmp_path_factory.mktemp("sockdir") / "agents")
    # Nor the user's own profiles (states), nor their cache.
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    assert default_tmux.exists() == existed, "the tests touched the user's default tmux socket"


@pytest.fixture
def ta(server: libtmux.Server) -> Iterator[tmuxagent.Server]:
    """A tmuxagent server on the test's own private tmux socket."""
    agent_server = tmuxagent.Server(socket_of(server))
    yield agent_server
    agent_server.kill_all()


class CLI:
    """Runs ``python -m tmuxagent -S SOCKET ...`` like an agent's bash tool."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(
        self,
        *args: str,
        input: str | bytes | None = None,
        timeout: float = 60,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tmuxagent", "-S", str(self.socket), *args],
            input=input.decode() if isinstance(input, bytes) else input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            check=False,
        )

    def ok(self, *args: str, **kw: object) -> str:
        proc = self(*args, **kw)  # type: ignore[arg-type]
        assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
        return proc.stdout


@pytest.fixture
def cli(ta: tmuxagent.Server) -> CLI:
    return CLI(ta.socket_path)


@pytest.fixture
def shell(ta: tmuxagent.Server) -> tmuxagent.Session:
    """An agent shell, ready at its first prompt."""
    return ta.start("sh")


@pytest.fixture
def repl(ta: tmuxagent.Server) -> tmuxagent.Session:
    """The fake REPL, at its prompt."""
    session = ta.start("repl", prog("fake_repl.py"))
    session.wait_text(r"fake> $")
    return session
