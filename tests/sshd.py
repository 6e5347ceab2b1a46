"""A real OpenSSH server on 127.0.0.1 for tests and benchmarks.

Its host key and the client's key are made for each run in a private
directory; it listens on a free port with its own config, and the client
side is an ssh config file with the host alias (``TMUXAGENT_SSH_COMMAND``
is set to ``ssh -F CONFIG``: ssh reads ``~/.ssh/config`` from the passwd
home, not ``$HOME``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def available() -> str | None:
    """Why no sshd can be run here (None: it can)."""
    if not os.path.exists(SSHD):
        return "no sshd (Debian: apt-get install openssh-server; setup.sh does it as root)"
    if not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        return "no ssh client"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sshd:
    """One sshd; ``alias`` is the host name that reaches it through ``ssh_config``."""

    def __init__(self, root: Path, alias: str = "testhost", extra: str = "") -> None:
        self.root, self.alias = root, alias
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.port = free_port()
        self.user = pwd.getpwuid(os.getuid()).pw_name
        for key in ("host_key", "client_key"):
            if not (root / key).exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key,
                                "-f", str(root / key)], check=True)  # fmt: skip
        (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
        (root / "authorized_keys").chmod(0o600)
        host_key = (root / "host_key.pub").read_text().split()
        (root / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_key[0]} {host_key[1]}\n")
        (root / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {root}/host_key\n"
            f"PidFile {root}/sshd.pid\nAuthorizedKeysFile {root}/authorized_keys\n"
            "UsePAM no\nStrictModes no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            f"LogLevel VERBOSE\n{extra}"
        )
        self.config = root / "ssh_config"
        self.config.write_text(
            f"Host {alias}\n  HostName 127.0.0.1\n  Port {self.port}\n  User {self.user}\n"
            f"  IdentityFile {root}/client_key\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {root}/known_hosts\n  StrictHostKeyChecking yes\n"
        )
        self.ssh_command = f"ssh -F {self.config}"
        self.pid: int | None = None

    def start(self) -> Sshd:
        with contextlib.suppress(FileExistsError):
            os.mkdir("/run/sshd", 0o755)  # privilege separation directory
        log = self.root / "sshd.log"
        subprocess.run([SSHD, "-f", str(self.root / "sshd_config"), "-E", str(log)], check=True)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError, ValueError):
                self.pid = int((self.root / "sshd.pid").read_text())
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {log.read_text()[-500:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it and the sessions it serves (their processes are its children)."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            self.pid = None


def processes() -> list[tuple[int, list[bytes]]]:
    """Every process: (pid, its command line's words)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().split(b"\0")))
            except OSError:
                pass
    return found


def kill_processes(*needles: str) -> None:
    """Kill what hosts left: their tmuxagent servers (their command lines
    name the hosts' directories) and the ssh masters (they name the config)."""
    for pid, words in processes():
        if pid != os.getpid() and any(n.encode() in w for n in needles for w in words):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
