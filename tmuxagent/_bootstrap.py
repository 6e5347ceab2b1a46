"""Run on a remote host over ssh, once per channel: check the host, bring
tmuxagent over if it lacks this version, start its server (``_serve``).

This file's source is sent to ``python3`` on the host, so it needs only the
standard library and must parse on old Pythons (3.7 and up) to be able to
say that they are too old. It reads one JSON line on stdin:
``{"code", "version", "sha256", "size"}``; when it has no copy of that
tmuxagent it prints ``{"need": "payload"}`` and reads a zip of the package
(``size`` bytes, checked against ``sha256``) into
``${XDG_CACHE_HOME:-~/.cache}/tmuxagent/remote/SHA``. Then it makes sure a
server answers on ``${XDG_RUNTIME_DIR:-/tmp}/tmuxagent-$UID/serve-CODE.sock``
and prints one JSON line: ``{"socket", "python", "tmux", "installed"}``, or
``{"error": ...}``.

A copy's directory's time is when a server was last started from it; a
server holds a shared ``flock`` on its copy while it runs. A new copy removes
the others that are unused for ``UNUSED`` seconds and locked by nobody.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import zipfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

#: Before each line the caller reads (a login shell may print lines of its own).
MARK = "tmuxagent-bootstrap: "
#: What a host whose Python is too old is told (also before this file is
#: compiled: a Python 3.6 cannot parse it).
TOO_OLD = "its python3 is %s; tmuxagent needs 3.11 or newer"
#: The server's start: the code's directory first on the path (None: installed),
#: a shared lock held on it while it runs (no pruning removes it); not the
#: working directory (a stray ~/shlex.py would be imported instead).
SERVE = (
    "import fcntl, os, sys\n"
    "sys.path[:] = [p for p in sys.path if p not in ('', '.')]\n"
    "if sys.argv[1]:\n"
    "    sys.path.insert(0, sys.argv[1])\n"
    "    held = os.open(sys.argv[1], os.O_RDONLY)\n"
    "    try: fcntl.flock(held, fcntl.LOCK_SH)\n"
    "    except OSError: pass\n"
    "from tmuxagent._serve import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)
#: Seconds after which a copy no server was started from, and none runs on,
#: is removed when a new copy comes (each edit of a checkout makes one).
UNUSED = 7 * 24 * 3600
#: Opens a directory only, never through a link.
DIRECTORY = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_DIRECTORY", 0)


def unsafe(path: str) -> str | None:
    """Why another user could change what ``path`` holds (as _files.unsafe_path:
    every directory on the way this user's or root's, none writable by others
    but a sticky one above the last)."""
    for full in (os.path.abspath(path), os.path.realpath(path)):
        parts = [p for p in full.split("/") if p]
        steps = ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
        for i, step in enumerate(steps):
            try:
                st = os.lstat(step)
            except FileNotFoundError:
                break
            if st.st_uid not in (os.geteuid(), 0):
                return f"{step} belongs to uid {st.st_uid}"
            if stat.S_ISLNK(st.st_mode):
                continue
            sticky_above = st.st_mode & stat.S_ISVTX and i < len(steps) - 1
            if st.st_mode & 0o022 and not sticky_above:
                return f"others can write to {step}"
    return None


def private_dir(path: str) -> str:
    """``path``, made 0700 or checked to be this user's own and private, on a
    way no other user can change."""
    why = unsafe(path)
    if why is None:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            why = "it is not a private directory of this user"
        else:
            why = unsafe(path)
    if why is not None:
        raise RuntimeError(f"refusing {path}: {why}")
    return path


def tree_id(root: str) -> str:
    """The SHA-256 of a package's files (relative names and contents): which
    code it is, whatever its version says."""
    names = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        names += [os.path.relpath(os.path.join(folder, name), root)
                  for name in files if not name.endswith((".pyc", ".pyo"))]  # fmt: skip
    digest = hashlib.sha256()
    for name in sorted(names):
        with open(os.path.join(root, name), "rb") as f:
            digest.update(name.encode() + b"\0" + f.read() + b"\0")
    return digest.hexdigest()


def answers(path: str) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def tmux_version() -> str | None:
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    out = subprocess.run(
        [tmux, "-V"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    return out.strip()


def too_old(version: str) -> bool:
    """Whether ``tmux -V``'s words name a tmux older than 3.2."""
    number = version.rsplit(None, 1)[-1] if version.split() else ""
    digits = "".join(c if c.isdigit() or c == "." else " " for c in number).split()
    if not digits:
        return False  # 'tmux master', 'tmux next-3.5': newer
    parts = [int(p) for p in digits[0].split(".") if p][:2]
    return parts < [3, 2]


def installed(want: dict[str, Any]) -> bool:
    """Whether this Python already has the very same tmuxagent (its files)."""
    try:
        import tmuxagent  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return False
    return bool(tree_id(os.path.dirname(os.path.abspath(tmuxagent.__file__))) == want["tree"])


def unpack(want: dict[str, Any], stdin: BinaryIO, out: Any) -> str:
    """The directory that holds the wanted code, fetched from stdin if new."""
    home = os.path.expanduser("~")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    root = private_dir(os.path.join(cache, "tmuxagent", "remote"))
    target = os.path.join(root, want["sha256"][:32])
    if os.path.isfile(os.path.join(target, "tmuxagent", "_serve.py")):
        try:
            os.utime(target)  # used now (before it is locked: see prune)
        except OSError:
            pass
        return target
    out.write(MARK + json.dumps({"need": "payload"}) + "\n")
    out.flush()
    data = stdin.read(want["size"])
    if hashlib.sha256(data).hexdigest() != want["sha256"]:
        raise RuntimeError("the tmuxagent sent over was damaged on the way (hash differs)")
    temporary = tempfile.mkdtemp(dir=root, prefix=".new-")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                parts = name.split("/")
                if name.startswith("/") or ".." in parts or parts[0] != "tmuxagent":
                    raise RuntimeError(f"refusing a file named {name!r} in the archive")
            archive.extractall(temporary)
        os.rename(temporary, target)
    except OSError as exc:
        if not os.path.isdir(target):  # else another call put it there first
            raise RuntimeError(f"cannot write {root}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    prune(root, target)
    return target


def prune(root: str, keep: str) -> None:
    """Remove the copies in ``root`` but ``keep`` that are unused for ``UNUSED``
    seconds and locked by nobody; only this user's own directories (not links)
    named as copies are. It never fails."""
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        path = os.path.join(root, name)
        if path == keep or len(name) != 32 or name.strip("0123456789abcdef"):
            continue
        try:
            st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                continue
            fd = os.open(path, DIRECTORY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # else a server or a call has it
            # Its time read once locked: a call marks a copy used before it locks it.
            if time.time() - os.fstat(fd).st_mtime > UNUSED:
                shutil.rmtree(path)  # which follows no link inside
        except OSError:
            pass
        finally:
            os.close(fd)


def hold(code_dir: str) -> int | None:
    """A descriptor of the copy with a shared lock on it, until its server
    holds one of its own (None: a pruning has just removed it)."""
    try:
        fd = os.open(code_dir, DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a pruning removes it
    except OSError:
        pass  # a file system without locks
    try:
        os.stat(os.path.join("tmuxagent", "_serve.py"), dir_fd=fd)
    except OSError:
        os.close(fd)
        return None
    return fd


def start_server(code_dir: str, path: str, code: str, log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, code_dir, path, code],
            stdin=subprocess.DEVNULL, stdout=fd, stderr=fd,
            cwd=os.path.expanduser("~"), start_new_session=True,
        )  # fmt: skip
    finally:
        os.close(fd)
    deadline = time.monotonic() + 20
    while not answers(path):
        if process.poll() is not None or time.monotonic() > deadline:
            with open(log, errors="replace") as f:
                last = [line.strip() for line in f.readlines()[-3:] if line.strip()]
            raise RuntimeError("its tmuxagent server did not start: " + " / ".join(last))
        time.sleep(0.02)


def bootstrap(stdin: BinaryIO, out: Any) -> dict[str, Any]:
    python = ".".join(str(n) for n in sys.version_info[:3])
    if sys.version_info < (3, 11):  # noqa: UP036 - this runs on the host's Python
        return {"error": TOO_OLD % python}
    tmux = tmux_version()
    if tmux is None:
        return {"error": "it has no tmux on PATH; install tmux 3.2 or newer there"}
    if too_old(tmux):
        return {"error": f"its {tmux} is too old; tmuxagent needs tmux 3.2 or newer"}
    want = json.loads(stdin.readline())
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    base = private_dir(os.path.join(runtime, f"tmuxagent-{os.getuid()}"))
    path = os.path.join(base, f"serve-{want['code']}.sock")
    if len(path.encode()) >= 104:  # a Unix socket's path holds no more
        return {"error": f"its socket path {path} is too long; set a shorter XDG_RUNTIME_DIR"}
    result = {"socket": path, "python": python, "tmux": tmux, "installed": None}
    if answers(path):
        return result
    code_dir, held = "", None
    try:
        if not installed(want):
            code_dir = result["installed"] = unpack(want, stdin, out)
            held = hold(code_dir)
            if held is None:  # another call's pruning took it: bring it again
                code_dir = result["installed"] = unpack(want, stdin, out)
                held = hold(code_dir)
        start_server(code_dir, path, want["code"], os.path.join(base, "serve.log"))
    finally:
        if held is not None:
            os.close(held)
    return result


def main() -> None:
    out = sys.stdout
    try:
        result = bootstrap(sys.stdin.buffer, out)
    except Exception as exc:  # said to the caller, who names the host
        result = {"error": str(exc) or type(exc).__name__}
    out.write(MARK + json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
