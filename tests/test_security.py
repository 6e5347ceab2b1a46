"""Attacks by another local user and by planted files (issue 8, items 1 and 4).

The other user is ``nobody`` (uid 65534); making files and servers as them
needs root, which CI has. Each attack first ran against the code before the
fix and succeeded there.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, wait_until

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")


def as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True,
        text=True, timeout=30, check=True,
        env={"PATH": os.environ["PATH"], "HOME": "/", "SHELL": "/bin/sh"},
    )  # fmt: skip


def agent(socket: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, as the caller (root), on ``socket``."""
    return subprocess.run(
        [sys.executable, "-m", "tmuxagent", "-S", str(socket), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory everyone may write to, like /tmp (sticky, 1777).

    Kills the other user's tmux server on ``shared/sock`` afterwards.
    """
    path = Path(tempfile.mkdtemp(prefix="tmuxagent-shared-"))
    path.chmod(0o1777)
    yield path
    sock = path / "sock"
    if sock.exists():
        subprocess.run(
            ["tmux", "-S", str(sock), "kill-server"], user=NOBODY, group=NOBODY,
            extra_groups=[], capture_output=True, check=False,
        )  # fmt: skip
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """A directory of the caller's that nobody else may make it delete."""
    path = tmp_path / "precious"
    path.mkdir(mode=0o700)
    (path / "keep").write_text("keep me")
    return path


def evil_server(shared: Path, root_only: Path) -> list[str]:
    """A server of nobody's on ``shared/sock``, dressed up as a tmuxagent one
    of the caller's, whose hooks make a connected client of root's write a
    file where only root may (tmux has a command client open files for it)."""
    tmux = ["tmux", "-S", str(shared / "sock"), "-f", "/dev/null"]
    as_nobody(*tmux, "new-session", "-d", "-s", "build", "sleep", "300")
    as_nobody(*tmux, "set", "-p", "-t", "build:0.0", "@tmuxagent_pane", "1")
    as_nobody(*tmux, "set", "-t", "build", "@tmuxagent_name", "build")
    as_nobody(*tmux, "set", "-t", "build", "@tmuxagent_dir", str(root_only))
    hook = f"set-buffer -b p pwned ; save-buffer -b p {root_only}/proof"
    for command in ("new-session", "list-panes", "display-message", "send-keys",
                    "set-option", "load-buffer", "list-sessions"):  # fmt: skip
        as_nobody(*tmux, "set-hook", "-g", f"after-{command}[0]", hook)
    return tmux


VERBS = (["list"], ["kill", "build"], ["kill", "--all"], ["status", "build"],
         ["send", "build", "secret"], ["start", "x", "--", "sleep", "30"])  # fmt: skip


@needs_root
def test_another_users_server_is_refused(shared: Path, precious: Path, tmp_path: Path) -> None:
    tmux = evil_server(shared, precious)
    server_pid = int(as_nobody(*tmux, "list-windows", "-F", "#{pid}").stdout)
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    os.rename(shared / "sock", mine / "sock")  # still nobody's, now where only root writes
    for args in VERBS:
        proc = agent(mine / "sock", *args)
        assert proc.returncode == 4, (args, proc.stdout, proc.stderr)
        assert "belongs to uid 65534" in proc.stderr and proc.stderr.count("\n") == 1
    with pytest.raises(tmuxagent.ForeignServer):
        tmuxagent.Server(mine / "sock").sessions()
    assert sorted(p.name for p in precious.iterdir()) == ["keep"]  # no proof, nothing deleted
    os.kill(server_pid, 15)


@needs_root
def test_a_socket_where_others_can_write_is_refused_before_tmux_runs(
    shared: Path, precious: Path
) -> None:
    """In /tmp (or any directory others can write to) another user can put a
    server of theirs in place of the socket between any check and tmux's
    connect (tmux waits on SOCK.lock, which they can hold): so no check of the
    socket will do, and nothing is sent."""
    tmux = evil_server(shared, precious)
    for sock in (shared / "sock", shared / "new"):
        for args in VERBS:
            proc = agent(sock, *args)
            assert proc.returncode == 4, (args, proc.stdout, proc.stderr)
            assert f"others can write to {shared}" in proc.stderr
    assert not (shared / "new.lock").exists()  # tmux never ran
    assert not (shared / "sock.tmuxagent").exists()
    assert sorted(p.name for p in precious.iterdir()) == ["keep"]
    as_nobody(*tmux, "has-session", "-t", "build")  # still there: not ours to end


@needs_root
def test_a_directory_of_another_user_on_the_way_is_refused(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's directory above root's private one (root kept their
    XDG_RUNTIME_DIR through su, or works in their project): they can swap
    what is below it at any moment."""
    as_nobody("mkdir", "-m", "755", str(shared / "theirs"))
    below = shared / "theirs" / "private"
    below.mkdir(mode=0o700)  # root's own, 0700: but inside theirs
    proc = agent(below / "sock", "start", "x", "--", "sleep", "30")
    assert proc.returncode == 4 and "theirs belongs to uid 65534" in proc.stderr
    assert list(below.iterdir()) == []
    monkeypatch.delenv("TMUXAGENT_SOCKET", raising=False)
    monkeypatch.delenv("TMUXAGENT_SOCKET_DIR", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared / "theirs"))
    with pytest.raises(tmuxagent.UsageError, match="belongs to uid 65534"):
        tmuxagent.Server()
    monkeypatch.setenv("TMUXAGENT_SOCKET_DIR", str(below / "sd"))
    with pytest.raises(tmuxagent.UsageError, match="belongs to uid 65534"):
        tmuxagent.Server()
    monkeypatch.setenv("TMUXAGENT_SOCKET", str(below / "sock"))
    with pytest.raises(tmuxagent.ForeignServer, match="belongs to uid 65534"):
        tmuxagent.Server().sessions()
    assert list(below.iterdir()) == []


@needs_root
def test_links_planted_by_another_user_are_not_followed(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    # The socket directory: a link of theirs to a private directory of ours.
    as_nobody("ln", "-s", str(mine), str(shared / "sockets"))
    monkeypatch.delenv("TMUXAGENT_SOCKET", raising=False)
    monkeypatch.setenv("TMUXAGENT_SOCKET_DIR", str(shared / "sockets"))
    with pytest.raises(tmuxagent.UsageError, match="sockets belongs to uid 65534"):
        tmuxagent.Server()
    # -S through it: the same, and kill --all ends nothing behind it.
    proc = agent(shared / "sockets" / "sock", "kill", "--all")
    assert proc.returncode == 4 and "sockets belongs to uid 65534" in proc.stderr
    assert list(mine.iterdir()) == []


@needs_root
def test_record_cast_replaces_a_planted_link_and_is_private(
    ta: tmuxagent.Server, cli: CLI, shared: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("root's secret")
    secret.chmod(0o600)
    cast = shared / "out.cast"
    as_nobody("ln", "-s", str(secret), str(cast))
    session = ta.start("rec", ["sh", "-c", "echo recorded; exec sleep 30"], record=True)
    session.wait_text("^recorded$")
    out = cli.ok("record", "rec", "--cast", str(cast))
    assert "wrote" in out
    assert secret.read_text() == "root's secret"
    st = cast.lstat()
    assert stat.S_ISREG(st.st_mode) and (st.st_mode & 0o777) == 0o600
    assert "recorded" in cast.read_text()
    assert [p.name for p in shared.iterdir()] == ["out.cast"]  # no temporary file left


def test_a_tampered_state_directory_option_is_not_believed(
    ta: tmuxagent.Server, cli: CLI, precious: Path
) -> None:
    """Anything running in the server can set a session's options: kill must
    never delete a directory that start did not make."""
    link = ta.state_root / f"{os.urandom(4).hex()}-1-abcdef"  # named like a session's
    for name, target in (
        ("outside", str(precious)),
        ("dotdot", str(ta.state_root / ".." / "precious")),
        ("link", str(link)),
    ):
        session = ta.start(name, ["sleep", "30"])
        if name == "link":
            link.symlink_to(precious)
        ta.host.tmux(["set", "-t", f"={name}:", "@tmuxagent_dir", target])
        proc = cli("status", name)
        assert proc.returncode == 3 and "are gone" in proc.stderr
        session.kill()
        assert name not in [i.name for i in ta.sessions()]
        assert (precious / "keep").read_text() == "keep me"


def test_every_file_is_private(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    session = ta.start("files", ["sh", "-c", "echo one; read x; echo two; exec sleep 30"])
    session.wait_text("^one$")
    session.start_recording()
    session.send("x", enter=True)
    session.wait_text("^two$")
    session.read()
    session.stop_recording()
    cast = tmp_path / "files.cast"
    cli.ok("record", "files", "--cast", str(cast))
    # The log deleted, and its writer gone: the next call pipes into a new one.
    log = Path(session.files.log)
    log.unlink()
    ta.host.tmux(["pipe-pane", "-t", "=files:"])
    session.capture()
    wait_until(log.exists, what="the log made again")
    root = Path(session.files.root)
    made = [cast, *root.iterdir()]
    expected = {"output.log", "meta.json", "input", "read", "read.lock", "recording.json",
                "recording.stop", "log.state", "timing", "logwriter.errors", "reattach.lock",
                "program.pid"}  # fmt: skip
    assert {p.name for p in made} >= expected
    for path in made:
        assert path.lstat().st_mode & 0o077 == 0, path


def test_a_directory_name_cannot_pose_as_pane_fields(
    ta: tmuxagent.Server, shell: tmuxagent.Session, tmp_path: Path, precious: Path
) -> None:
    """A program chooses its directory's name, and tmux reports it: newlines
    and field separators in it must not cut a pane in two or forge fields."""
    import shlex

    odd = tmp_path / f"x\x1f{precious}\x1f1\nsecond\x1fline"
    odd.mkdir(parents=True)
    result = shell.run(f"cd {shlex.quote(str(odd))}")
    assert (result.exit_code, result.cwd) == (0, str(odd))
    assert shell.status().cwd == str(odd)
    listed = ta.sessions()
    assert [(i.name, i.cwd) for i in listed] == [("sh", str(odd))]
    assert shell.run("echo still here").output == "still here"
    shell.kill()
    assert (precious / "keep").read_text() == "keep me"
    assert ta.sessions() == []


def test_a_recording_holds_no_prompt_token(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    import json

    from tmuxagent._record import _Markers

    shell = ta.start("sh", record=True)
    for word in ("one", "two", "three"):
        assert shell.run(f"echo {word}").output == word
    token = shell.files.meta()["prompt_token"]
    assert token.encode() in Path(shell.files.log).read_bytes()  # the markers are in the log
    cast = tmp_path / "sh.cast"
    cli.ok("record", "sh", "--cast", str(cast))
    text = cast.read_text()
    assert token not in text and "6973;tmuxagent" not in text
    events = [json.loads(line) for line in text.splitlines()[1:]]
    assert "three" in "".join(e[2] for e in events)
    # A marker split anywhere across events still goes, and nothing else does.
    stream = "a\x1b]6973;tmuxagent;t0k;0;/x\x07b\x1b]0;title\x07c"
    for cut in range(len(stream) + 1):
        markers = _Markers("t0k")
        got = markers.drop(stream[:cut]) + markers.drop(stream[cut:], final=True)
        assert got == "ab\x1b]0;title\x07c", cut
    # Output that only looks like a marker stays, and cannot make the cast slow.
    fake = "\x1b]6973;tmuxagent;guess;0;/x\x07"
    assert _Markers("t0k").drop(fake, final=True) == fake
    markers = _Markers("t0k")
    unfinished = ["\x1b]6973;tmuxagent;t0k;0;/x", *("line\r\n" * 1000 for _ in range(300))]
    kept = "".join(markers.drop(chunk) for chunk in unfinished) + markers.drop("", final=True)
    assert len(kept) == len("".join(unfinished))  # held back no more than HOLD at a time


def test_output_cannot_turn_a_paste_into_typed_lines(
    shell: tmuxagent.Session, cli: CLI, tmp_path: Path
) -> None:
    """Output can switch bracketed paste off (ESC[?2004l) while bash waits at
    its prompt; tmux would then paste the lines as typed, each submitted."""
    pwned = tmp_path / "PWNED"
    shell.run("(sleep 0.3; printf '\\033[?2004l') &")
    log = Path(shell.files.log)
    # (bash turns the mode on with each prompt, and off when a line is taken)
    wait_until(
        lambda: b"\x1b[?2004l" in log.read_bytes().rsplit(b"\x1b[?2004h", 1)[-1],
        what="the mode switched off at the prompt",
    )
    notes = tmp_path / "notes.txt"
    notes.write_text(f"notes to paste:\ntouch {pwned}\nmore text\n")
    cli.ok("paste", "sh", str(notes))
    wait_until(lambda: "more text" in shell.capture().text, what="the paste shown")
    assert not pwned.exists()
    shell.keys("C-c")
    assert shell.run("echo ok").output == "ok"
    assert not pwned.exists()
