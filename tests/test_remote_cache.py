"""The host's cache of tmuxagent copies: a new copy removes the old unused
ones, and nothing else. The bootstrap's functions are called here, as on a
host (its cache and runtime directories the test's own)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tmuxagent import _bootstrap, _ssh

DAY = 24 * 3600


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache's directory of copies (``XDG_CACHE_HOME`` is the test's)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return Path(_bootstrap.private_dir(str(tmp_path / "cache" / "tmuxagent" / "remote")))


def copy(root: Path, name: str, age: float) -> Path:
    """A copy as unpack leaves one, last used ``age`` seconds ago."""
    (root / name / "tmuxagent").mkdir(parents=True)
    (root / name / "tmuxagent" / "_serve.py").write_text("")
    aged(root / name, age)
    return root / name


def aged(path: Path, age: float) -> None:
    then = time.time() - age
    os.utime(path, (then, then), follow_symlinks=False)


def name() -> str:
    return uuid.uuid4().hex  # 32 hex digits, as a copy's name


def bring(text: str | None = None) -> Path:
    """Unpack a new small package (its one file says ``text``): a new copy."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tmuxagent/_serve.py", text or name())
    data = buffer.getvalue()
    want = {"sha256": _ssh.sha256(data), "size": len(data)}
    return Path(_bootstrap.unpack(want, io.BytesIO(data), io.StringIO()))


def test_a_new_copy_removes_the_old_unused_ones(root: Path) -> None:
    old = copy(root, name(), 8 * DAY)
    recent = copy(root, name(), DAY)
    almost = copy(root, name(), _bootstrap.UNUSED - 3600)
    new = bring()
    assert not old.exists()
    assert recent.is_dir() and almost.is_dir()
    assert (new / "tmuxagent" / "_serve.py").is_file()


def test_a_copy_found_is_used_and_removes_none(root: Path) -> None:
    """Finding its copy marks it used; only a new copy prunes."""
    new = bring("the same")
    aged(new, 30 * DAY)
    old = copy(root, name(), 30 * DAY)
    assert bring("the same") == new
    assert old.is_dir()
    assert time.time() - new.stat().st_mtime < 60
    bring()
    assert not old.exists() and new.is_dir()


def test_what_is_not_a_copy_is_left_alone(root: Path, tmp_path: Path) -> None:
    """Links, files and other names, old as they are, stay; a link inside an
    old copy goes, what it points to stays."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("mine")
    aged(outside, 30 * DAY)
    link = root / name()
    link.symlink_to(outside)
    aged(link, 30 * DAY)
    file = root / name()
    file.write_text("")
    aged(file, 30 * DAY)
    strangers = [
        copy(root, "g" * 32, 30 * DAY),
        copy(root, name()[:31], 30 * DAY),
        copy(root, name().upper(), 30 * DAY),
        copy(root, ".new-" + name()[:8], 30 * DAY),
    ]
    old = copy(root, name(), 30 * DAY)
    (old / "escape").symlink_to(outside)
    (old / "tmuxagent" / "escape").symlink_to(outside / "keep")
    aged(old, 30 * DAY)
    bring()
    assert not old.exists()
    assert link.is_symlink() and file.is_file() and all(p.is_dir() for p in strangers)
    assert (outside / "keep").read_text() == "mine"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory away needs root")
def test_another_users_copy_is_left_alone(root: Path) -> None:
    theirs = copy(root, name(), 30 * DAY)
    os.chown(theirs, 65534, 65534)
    bring()
    assert theirs.is_dir()


def test_a_held_copy_is_kept(root: Path) -> None:
    """A copy locked (by a call about to start its server, or by a server)
    stays, however old; once let go, the next new copy removes it."""
    old = copy(root, name(), 30 * DAY)
    held = _bootstrap.hold(str(old))
    assert held is not None
    try:
        bring()
        assert old.is_dir()
    finally:
        os.close(held)
    bring()
    assert not old.exists()
    assert _bootstrap.hold(str(old)) is None  # gone: the call brings it again
    (root / "link").symlink_to(bring())
    assert _bootstrap.hold(str(root / "link")) is None


@pytest.fixture
def host(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[subprocess.Popen[Any]]]:
    """This machine as a host: a short runtime directory (a socket's path is
    short), and the servers the bootstrap starts, stopped at the end."""
    if shutil.which("tmux") is None:
        pytest.skip("no tmux")
    runtime = tempfile.mkdtemp(prefix="tac-", dir="/tmp")
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    servers: list[subprocess.Popen[Any]] = []

    class Recorded(subprocess.Popen):  # type: ignore[type-arg]
        def __init__(self, args: Any, *more: Any, **options: Any) -> None:
            super().__init__(args, *more, **options)
            if _bootstrap.SERVE in args:
                servers.append(self)

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    try:
        yield servers
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        shutil.rmtree(runtime, ignore_errors=True)


def start(data: bytes) -> tuple[dict[str, Any], str]:
    """Run the bootstrap for the package ``data`` (not taken for installed)."""
    want = {"code": "test" + uuid.uuid4().hex[:12], "version": "0", "size": len(data),
            "sha256": _ssh.sha256(data), "tree": "not this one"}  # fmt: skip
    out = io.StringIO()
    said = _bootstrap.bootstrap(io.BytesIO(json.dumps(want).encode() + b"\n" + data), out)
    return said, out.getvalue()


def test_a_running_server_keeps_its_copy(host: list[subprocess.Popen[Any]]) -> None:
    """A server may run for longer than a copy's time unused (it is used at
    least every ten minutes, its channel never opened again): its copy stays."""
    said, _ = start(_ssh.payload())
    assert "error" not in said, said
    assert _bootstrap.answers(said["socket"]) and len(host) == 1
    ours = Path(said["installed"])
    aged(ours, 30 * DAY)
    bring()
    assert (ours / "tmuxagent" / "_serve.py").is_file()
    host[0].terminate()
    host[0].wait(10)
    bring()
    assert not ours.exists()


def test_a_copy_removed_meanwhile_is_brought_again(
    host: list[subprocess.Popen[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another call's pruning takes the copy this call has just found: it
    asks for the package (once) and its server starts."""
    data = _ssh.payload()
    want = {"sha256": _ssh.sha256(data), "size": len(data)}
    found = Path(_bootstrap.unpack(want, io.BytesIO(data), io.StringIO()))
    hold = _bootstrap.hold
    calls = []

    def pruned_first(code_dir: str) -> int | None:
        calls.append(code_dir)
        if len(calls) == 1:
            shutil.rmtree(code_dir)
        return hold(code_dir)

    monkeypatch.setattr(_bootstrap, "hold", pruned_first)
    said, out = start(data)
    assert "error" not in said, said
    assert out.count('"need"') == 1 and calls == [str(found)] * 2
    assert _bootstrap.answers(said["socket"])
