"""The channel to a remote host: the system's ssh, one master connection per
host, and a forwarded socket to tmuxagent's server there.

The first call to a host starts an ssh master (``ControlMaster``, batch
mode: it never prompts), runs the bootstrap (``_bootstrap``) over it to
start tmuxagent's server on the host (bringing tmuxagent over when the host
lacks it), and forwards a local Unix socket to that server's. Later calls
only connect to the local socket: no new connection, no remote shell, no
Python start on the host. Both ends live in private directories:
``${XDG_RUNTIME_DIR:-/tmp}/tmuxagent-$UID/hosts`` here, the same directory
name on the host.
"""

from __future__ import annotations

import _socket  # not socket: a CLI call to a host must start fast (see bench/remote.py)
import os

from ._files import secure_dir
from ._host import _PACKAGE, absolute
from .errors import HostError, UsageError, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from typing import Any

#: Seconds an idle master connection stays up (the server on the host has its own).
PERSIST = 600
#: Seconds the first connection and the bootstrap may take.
CONNECT_TIMEOUT = 30

_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_ADDRESS = frozenset("0123456789abcdefABCDEF:.")


def _is_name(text: str) -> bool:
    """A user or host name: letters, digits, '.', '_', '-', not first '-' or '.'."""
    return bool(text) and text[0] not in "-." and set(text) <= _NAME


def sha256(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex, without loading OpenSSL when the
    interpreter has its own (a few ms of each CLI call)."""
    try:
        from _sha256 import sha256 as new  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            from _sha2 import sha256 as new  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            from hashlib import sha256 as new
    return str(new(data).hexdigest())


class HostSpec:
    """``[user@]host[:port]`` or ``ssh://[user@]host[:port]``."""

    __slots__ = ("host", "port", "text", "user")

    def __init__(self, text: str, host: str, user: str | None = None, port: int | None = None):
        self.text, self.host, self.user, self.port = text, host, user, port

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"HostSpec({self.text!r})"


def parse_host(text: str) -> HostSpec:
    """The host named by ``text``; UsageError (exit 2) for anything else, above
    all for what ssh could take as an option or a shell as syntax."""
    rest = text[len("ssh://") :] if text.startswith("ssh://") else text
    rest = rest.removesuffix("/") if text.startswith("ssh://") else rest
    user = None
    if "@" in rest:
        user, rest = rest.rsplit("@", 1)
    port = None
    if rest.startswith("[") and "]" in rest:
        host, _, tail = rest.partition("]")
        host += "]"
        if tail:
            if not tail.startswith(":"):
                host = rest  # refused below
            port_text = tail[1:]
        else:
            port_text = None
    else:
        host, colon, port_text_ = rest.partition(":")
        port_text = port_text_ if colon else None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UsageError(f"bad port in host {shown(text)}: give [user@]host[:port]")
        port = int(port_text)
    bracketed = host.startswith("[") and host.endswith("]") and len(host) > 2
    if (
        len(text) > 300  # a host name has at most 253 characters
        or not (_is_name(host) or (bracketed and set(host[1:-1]) <= _ADDRESS))
        or (user is not None and not _is_name(user))
        or text.startswith("-")
    ):
        raise UsageError(
            f"bad host {shown(text)}: give [user@]host[:port] or ssh://[user@]host[:port] "
            "(letters, digits, '.', '_', '-'; an alias from ~/.ssh/config works)"
        )
    return HostSpec(text, host.strip("[]") if host.startswith("[") else host, user, port)


def ssh_command() -> list[str]:
    """``$TMUXAGENT_SSH_COMMAND`` split as a shell would (never run by one),
    else ``ssh``."""
    import shlex

    text = os.environ.get("TMUXAGENT_SSH_COMMAND", "").strip()
    if not text:
        return ["ssh"]
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"cannot read TMUXAGENT_SSH_COMMAND: {exc}") from None
    return words


def code_id() -> str:
    """Which tmuxagent this is, cheaply: its version and its files' sizes and
    times (a new install or an edit makes a new server on the host)."""
    from . import __version__

    seen = [__version__]
    for path in package_files():
        st = os.stat(path)
        seen.append(f"{path}\0{st.st_size}\0{st.st_mtime_ns}")
    return sha256("\0".join(seen).encode())[:16]


def package_files() -> list[str]:
    """The files of the installed package that the host needs (sorted)."""
    root = os.path.dirname(os.path.abspath(__file__))
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                found.append(os.path.join(folder, name))
    return sorted(found)


def payload() -> bytes:
    """The package as a zip, the same bytes for the same files."""
    import io
    import zipfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in package_files():
            info = zipfile.ZipInfo(os.path.relpath(path, root), (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                archive.writestr(info, f.read())
    return buffer.getvalue()


def hosts_dir() -> str:
    base = os.environ.get("TMUXAGENT_SOCKET_DIR") or os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"tmuxagent-{os.getuid()}"
    )
    secure_dir(absolute(base), what="socket directory")
    return secure_dir(os.path.join(absolute(base), "hosts"), what="hosts directory")


class Link:
    """The channel to one host: its ssh master, its server, the forwarded socket."""

    def __init__(self, spec: HostSpec) -> None:
        self.spec = spec
        self.code = code_id()
        # The ssh command as written: it is split (shlex) only when ssh runs.
        command = os.environ.get("TMUXAGENT_SSH_COMMAND", "").strip()
        name = sha256(repr((command, spec.host, spec.user, spec.port)).encode())[:16]
        folder = hosts_dir()
        if ":" in folder or len(folder) > 70:  # ssh's -L spec; a socket path's length
            raise UsageError(
                f"the hosts directory {shown(folder)} is too long or holds a ':'; "
                "set TMUXAGENT_SOCKET_DIR to a short path"
            )
        self.control_path = os.path.join(folder, f"{name}.ctl")
        self.socket_path = os.path.join(folder, f"{name}-{self.code[:8]}.sock")
        self._lock_path = os.path.join(folder, f"{name}.lock")
        #: What happened on the way, to say once (the bootstrap).
        self.notes: list[str] = []

    def argv(self, *options: str, command: str | None = None, batch: bool = True) -> list[str]:
        """An ssh command line for this host through the master connection
        (``batch``: it never prompts)."""
        # -S, not -o ControlPath=: a space in the path is no problem; '%' is ssh's.
        argv = [*ssh_command(), "-S", self.control_path.replace("%", "%%")]
        if batch:
            argv += ["-o", "BatchMode=yes"]
        if self.spec.port is not None:
            argv += ["-p", str(self.spec.port)]
        if self.spec.user is not None:
            argv += ["-l", self.spec.user]
        if command is not None:  # ours, not a RemoteCommand of the user's config
            options = (*options, "-o", "RemoteCommand=none")
        argv += [*options, "--", self.spec.host]
        if command is not None:
            argv.append(command)
        return argv

    def connect(self) -> _socket.socket:
        """A connection to tmuxagent's server on the host (the channel is
        opened first when it is not)."""
        sock = self._try_connect()
        if sock is None:
            self.open()
            sock = self._try_connect()
            if sock is None:
                raise HostError(f"{self.spec}: the channel to its tmuxagent server did not open")
        return sock

    def _try_connect(self) -> _socket.socket | None:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            return None
        return sock

    def open(self, *, again: bool = False) -> None:
        """Start the master, the host's server and the forward, as needed
        (``again``: the forward answers but nothing is behind it)."""
        import contextlib
        import fcntl

        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # one opener per host at a time
            if not again:
                sock = self._try_connect()
                if sock is not None:
                    sock.close()
                    return
            if not self._master_up():
                with contextlib.suppress(FileNotFoundError):  # a killed master's
                    os.unlink(self.control_path)
                self._start_master()
            remote = self._bootstrap()
            self._forward(remote)
        finally:
            os.close(fd)

    def _run(
        self, argv: list[str], timeout: float = CONNECT_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        import subprocess

        try:
            return subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                errors="replace", timeout=timeout, check=False, start_new_session=True,
            )  # fmt: skip
        except OSError:
            raise HostError(f"{self.spec}: {shown(argv[0])} was not found (install OpenSSH, "
                            "or set TMUXAGENT_SSH_COMMAND)") from None  # fmt: skip
        except subprocess.TimeoutExpired:
            raise HostError(f"{self.spec}: ssh did not answer in {timeout:g}s") from None

    def _master_up(self) -> bool:
        return self._run(self.argv("-O", "check"), timeout=10).returncode == 0

    def _start_master(self) -> None:
        import subprocess
        import tempfile

        with tempfile.TemporaryFile("w+", errors="replace") as errors:
            argv = self.argv(
                "-o", "ControlMaster=yes", "-o", f"ControlPersist={PERSIST}",
                "-o", "StreamLocalBindUnlink=yes", "-o", "ServerAliveInterval=15",
                "-o", "ExitOnForwardFailure=no",  # a LocalForward of the user's config in use
                "-o", f"ConnectTimeout={CONNECT_TIMEOUT}", "-f", "-N",
            )  # fmt: skip
            try:
                # -f: ssh goes to the background once logged in; its stderr is
                # a file, so that waiting for it does not wait for the master.
                # Its own session: a Ctrl-C at the terminal is for us, not for ssh.
                code = subprocess.run(
                    argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                    timeout=CONNECT_TIMEOUT + 5, check=False, start_new_session=True,
                ).returncode  # fmt: skip
            except OSError:
                raise HostError(f"{self.spec}: {shown(argv[0])} was not found (install "
                                "OpenSSH, or set TMUXAGENT_SSH_COMMAND)") from None  # fmt: skip
            except subprocess.TimeoutExpired:
                raise HostError(f"{self.spec}: no answer in {CONNECT_TIMEOUT}s") from None
            errors.seek(0)
            said = [line.strip() for line in errors.read().splitlines() if line.strip()]
        if code != 0:
            why = said[-1] if said else f"ssh exited with status {code}"
            raise HostError(f"cannot reach {self.spec}: {why}")

    def _bootstrap(self) -> str:
        """Start tmuxagent's server on the host (bringing tmuxagent over if
        needed); returns its socket's path there."""
        import base64
        import json
        import subprocess
        import zlib

        from . import __version__, _bootstrap

        with open(_bootstrap.__file__, "rb") as f:
            source = base64.b64encode(zlib.compress(f.read())).decode()
        data = payload()
        want = {"code": self.code, "version": __version__, "size": len(data),
                "sha256": sha256(data), "tree": _bootstrap.tree_id(_PACKAGE)}  # fmt: skip
        command = "exec python3 -c 'import sys; exec(sys.stdin.buffer.readline())'"
        # Not the working directory on the path: a stray ~/zlib.py would be run.
        # A Python too old to compile the bootstrap says what it is first.
        old = _bootstrap.MARK + json.dumps({"error": _bootstrap.TOO_OLD})
        first = (
            "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
            f"sys.version_info < (3, 11) and sys.exit(print({old!r} % "
            "'.'.join(map(str, sys.version_info[:3])))); "
            f"import base64, zlib; exec(zlib.decompress(base64.b64decode('{source}')))\n"
        )
        process = subprocess.Popen(
            self.argv("-o", "ControlMaster=no", "-o", "RequestTTY=no", command=command),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(first.encode() + json.dumps(want).encode() + b"\n")
            process.stdin.flush()
            answer = self._answer(process)
            if answer.get("need") == "payload":
                process.stdin.write(data)
                process.stdin.flush()
                answer = self._answer(process)
                if "error" not in answer:
                    self.notes.append(
                        f"tmuxagent {__version__} was copied to {self.spec}:"
                        f"{answer.get('installed')} (it was not installed there)"
                    )
        except (BrokenPipeError, ConnectionError):
            answer = {}
        try:
            _, err = process.communicate(timeout=CONNECT_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        if "error" in answer:
            raise HostError(f"{self.spec}: {answer['error']}")
        socket_path = answer.get("socket")
        if not isinstance(socket_path, str):
            said = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
            why = said[-1].strip() if said else f"exit status {process.returncode}"
            if process.returncode == 127:
                why = "it has no python3 on PATH; install Python 3.11 or newer there"
            raise HostError(f"{self.spec}: cannot start tmuxagent there: {why}")
        return socket_path

    def _answer(self, process: subprocess.Popen[bytes]) -> dict[str, Any]:
        """The bootstrap's next answer: its next line that carries its mark (a
        login shell may print lines of its own); {} if none comes in time."""
        import json
        import select
        import time

        from ._bootstrap import MARK

        assert process.stdout is not None
        deadline = time.monotonic() + CONNECT_TIMEOUT
        fd, pending = process.stdout.fileno(), b""
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                text = line.decode("utf-8", "replace")
                if text.startswith(MARK):
                    try:
                        answer = json.loads(text[len(MARK) :])
                    except ValueError:
                        return {}
                    return answer if isinstance(answer, dict) else {}
        return {}

    def _forward(self, remote: str) -> None:
        import contextlib

        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        self._run(self.argv("-O", "cancel", "-L", f"{self.socket_path}:{remote}"), timeout=10)
        done = self._run(self.argv("-O", "forward", "-L", f"{self.socket_path}:{remote}"), 10)
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or [f"status {done.returncode}"])[-1]
            raise HostError(f"{self.spec}: cannot forward a socket to its tmuxagent server: {why}")

    def close(self) -> None:
        """End the master connection (the host's server exits when idle)."""
        self._run(self.argv("-O", "exit"), timeout=10)
