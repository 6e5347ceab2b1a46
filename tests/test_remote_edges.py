"""Hosts that lack something, against real OpenSSH servers on 127.0.0.1:
no tmux, no python3, a too old python3, no socket forwarding, a full disk.

Each host is an sshd whose sessions get a PATH of their own (a directory of
symlinks to this machine's programs: only those the host "has") and a home,
runtime and cache directory of their own in this module's directory (the
home has no rc file that could change PATH). What a host leaves running is
seen by its environment (``XDG_RUNTIME_DIR``, which only the host's sessions
have); at the end, what names this module's directory is stopped.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.sshd import Sshd, available, kill_processes, processes

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))

#: A real Python 3.11 or newer (this venv's interpreter, not its venv).
PYTHON = os.path.realpath(sys.executable)
TMUX = shutil.which("tmux") or "/usr/bin/tmux"
#: Just what a host needs, per the README: python3 and tmux.
ENOUGH = {"python3": PYTHON, "tmux": TMUX}


def version_of(python: str) -> str:
    """What ``python`` says its version is ("" if it does not run)."""
    said = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return said.stdout.strip() if said.returncode == 0 else ""


def older_pythons() -> dict[str, str]:
    """Real Python 3 interpreters here older than 3.11 (pyenv's or the
    system's), one per version: {version: path}, oldest first."""
    found: dict[str, str] = {}
    for path in glob.glob("/usr/bin/python3.*") + glob.glob(
            os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")):  # fmt: skip
        if os.access(path, os.X_OK) and not path.endswith("-config"):
            version = version_of(path)
            if version and numbers(version) < [3, 11]:
                found.setdefault(version, path)
    return {v: found[v] for v in sorted(found, key=numbers)}


def numbers(version: str) -> list[int]:
    return [int(n) for n in version.split(".")]


OLDER = older_pythons()
#: A Python before 3.7 (RHEL 8's and Ubuntu 18.04's python3 is 3.6) cannot
#: parse the bootstrap: the line before it says the version is too old.
TOO_OLD = [pytest.param(v) for v in OLDER]


class Host:
    """An sshd standing for a host, and ``tmuxagent -H`` calls to it."""

    def __init__(self, root: Path, client: Path, alias: str, programs: dict[str, str],
                 extra: str = "") -> None:  # fmt: skip
        self.root, self.client, self.alias = root, client, alias
        for name in ("bin", "home", "run", "cache"):
            (root / name).mkdir(mode=0o700, parents=True)
        for name, target in programs.items():
            (root / "bin" / name).symlink_to(target)
        env = (f"HOME={root}/home PATH={root}/bin XDG_RUNTIME_DIR={root}/run "
               f"XDG_CACHE_HOME={root}/cache")  # fmt: skip
        self.sshd = Sshd(root / "sshd", alias=alias, extra=f"SetEnv {env}\n{extra}")

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TMUXAGENT_SSH_COMMAND": self.sshd.ssh_command,
               "TMUXAGENT_SOCKET_DIR": str(self.client)}  # fmt: skip
        return subprocess.run([sys.executable, "-m", "tmuxagent", "-H", self.alias, *args],
                              capture_output=True, text=True, env=env, timeout=90,
                              check=False)  # fmt: skip

    def running(self) -> list[int]:
        """The processes of the host's sessions (its shell, python, tmux, server)."""
        mark = f"XDG_RUNTIME_DIR={self.root}/run".encode()
        found = []
        for pid, _ in processes():
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if mark in environ:
                found.append(pid)
        return found

    def left_nothing(self) -> None:
        wait_until(lambda: not self.running(), 10, f"{self.alias}'s processes to end")

    def cached(self) -> list[str]:
        """What the host's cache holds of tmuxagent's copies (hidden ones too)."""
        remote = self.root / "cache" / "tmuxagent" / "remote"
        return sorted(p.name for p in remote.iterdir()) if remote.exists() else []


@pytest.fixture(scope="module")
def make_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Host]]:
    """Hosts of this module, each in a directory of its own; all stopped at the end."""
    root = tmp_path_factory.mktemp("edges")
    made: list[Host] = []
    mounts: list[Path] = []

    def make(alias: str, programs: dict[str, str], extra: str = "", disk: str = "") -> Host:
        host = Host(root / alias, root / "client", alias, programs, extra)
        if disk:  # a small filesystem of its own for the host's cache
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={disk},mode=0700",
                                   "tmpfs", str(host.root / "cache")],
                                  capture_output=True, text=True, check=False)  # fmt: skip
            if done.returncode != 0:
                pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
            mounts.append(host.root / "cache")
        made.append(host)
        host.sshd.start()
        return host

    try:
        yield make
    finally:
        for host in made:
            host.sshd.stop()
        # The ssh masters (their command lines name the configs), the hosts'
        # servers and tmux (they name the hosts' directories).
        kill_processes(str(root))
        for mount in mounts:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def one_line(proc: subprocess.CompletedProcess[str], alias: str) -> str:
    """The call's one line on stderr, which names the host (exit 4, no output)."""
    assert (proc.returncode, proc.stdout) == (4, ""), (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"tmuxagent: {alias}: ")
    return proc.stderr


def test_a_host_with_just_python3_and_tmux_works(make_host: Callable[..., Host]) -> None:
    """What the others lack is all a host needs; what it keeps running is seen."""
    host = make_host("enough", ENOUGH)
    started = host("start", "py", "--", "python3", "-q")
    assert started.returncode == 0, started.stderr
    assert "was copied to enough:" in started.stderr and len(host.cached()) == 1
    assert host("wait", "py", "--text", ">>> $").returncode == 0  # its prompt
    sent = host("send", "py", "6 * 7", "--enter", "--wait", "^42$")
    assert (sent.returncode, sent.stdout, sent.stderr) == (0, "42\n", "")
    assert host.running()  # its tmuxagent server and tmux, waiting for the next call
    assert host("kill", "py").returncode == 0


def test_a_host_without_tmux(make_host: Callable[..., Host]) -> None:
    host = make_host("notmux", {"python3": PYTHON})
    line = one_line(host("list"), "notmux")
    assert "no tmux on PATH" in line and "tmux 3.2 or newer" in line, line
    host.left_nothing()
    assert host.cached() == []  # nothing was brought over


def test_a_host_without_python3(make_host: Callable[..., Host]) -> None:
    host = make_host("nopython", {"tmux": TMUX})
    line = one_line(host("list"), "nopython")
    assert "no python3 on PATH" in line and "Python 3.11 or newer" in line, line
    host.left_nothing()
    assert host.cached() == []


@pytest.mark.skipif(not OLDER, reason="no Python 3 older than 3.11 on this machine")
@pytest.mark.parametrize("version", TOO_OLD or ["none"])
def test_a_host_with_a_too_old_python3(make_host: Callable[..., Host], version: str) -> None:
    """A real older interpreter as the host's python3 (the bootstrap must run
    on it to say so)."""
    alias = "py" + version.replace(".", "-")
    host = make_host(alias, {"python3": OLDER[version], "tmux": TMUX})
    line = one_line(host("list"), alias)
    assert f"its python3 is {version}; tmuxagent needs 3.11 or newer" in line, line
    host.left_nothing()
    assert host.cached() == []


def test_a_host_that_forwards_no_sockets(make_host: Callable[..., Host]) -> None:
    host = make_host("noforward", ENOUGH, extra="AllowStreamLocalForwarding no\n")
    line = one_line(host("list"), "noforward")
    assert "AllowStreamLocalForwarding" in line, line
    # (Its server was started before the refusal showed: it stays until idle.)


def test_a_host_with_a_full_disk(make_host: Callable[..., Host]) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    host = make_host("fulldisk", ENOUGH, disk="128k")  # the package is ~550 kB unpacked
    line = one_line(host("list"), "fulldisk")
    assert "cannot write" in line and "No space left on device" in line, line
    assert host.cached() == []  # no partial copy
    host.left_nothing()
