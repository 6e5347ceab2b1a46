"""The private server: where it lives, how it is configured, sessions' life."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import libtmux
import pytest

import tmuxagent
from tests.conftest import CLI, prog, wait_until


def test_default_socket_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUXAGENT_SOCKET", raising=False)
    monkeypatch.delenv("TMUXAGENT_SOCKET_DIR", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    expected = tmp_path / f"tmuxagent-{os.getuid()}" / "default"
    assert tmuxagent.default_socket() == str(expected)
    assert (expected.parent.stat().st_mode & 0o777) == 0o700
    monkeypatch.setenv("TMUXAGENT_SOCKET_DIR", str(tmp_path / "mine"))
    assert tmuxagent.default_socket() == str(tmp_path / "mine" / "default")
    monkeypatch.setenv("TMUXAGENT_SOCKET", str(tmp_path / "explicit.sock"))
    assert tmuxagent.Server().socket_path == tmp_path / "explicit.sock"


def test_refuses_open_socket_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    monkeypatch.delenv("TMUXAGENT_SOCKET", raising=False)
    monkeypatch.setenv("TMUXAGENT_SOCKET_DIR", str(shared))
    with pytest.raises(tmuxagent.UsageError, match="others can access it"):
        tmuxagent.Server()
    proc = subprocess.run(
        [sys.executable, "-m", "tmuxagent", "list"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("tmuxagent: refusing socket directory")
    assert proc.stderr.count("\n") == 1


def test_refuses_foreign_socket_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.getuid() != 0:
        pytest.skip("needs a directory owned by another user: / is root's")
    monkeypatch.setenv("TMUXAGENT_SOCKET_DIR", "/proc/1")  # owned by root... and by us
    assert tmuxagent.Server  # nothing else can be said when we are root


def test_server_config(ta: tmuxagent.Server, server: libtmux.Server) -> None:
    ta.start("first", ["sleep", "30"])
    # history-limit holds for the very first pane (set before it exists).
    assert server.cmd("display", "-p", "-t", "=first:", "#{history_limit}").stdout == ["50000"]
    assert server.cmd("show", "-gv", "remain-on-exit").stdout == ["on"]
    assert server.cmd("show", "-wv", "-t", "=first:", "window-size").stdout == ["manual"]


def test_start_options(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    out = cli.ok(
        "start", "opts", "--cwd", str(tmp_path), "--env", "A=1", "--env", "B=x=y",
        "--size", "90x20", "--", sys.executable, "-c",
        "import os; print(os.getcwd(), os.environ['A'], os.environ['B']); input()",
    )  # fmt: skip
    assert "started 'opts'" in out and "attach -t" in out
    session = ta.session("opts")
    session.wait_text(f"{tmp_path} 1 x=y")
    info = session.status()
    assert (info.cols, info.rows) == (90, 20)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["start", "x", "--size", "5x5"], "invalid size"),
        (["start", "x", "--size", "wide"], "invalid size"),
        (["start", "x", "--cwd", "/nonexistent/dir"], "does not exist"),
        (["start", "x", "--env", "NOEQUALS"], "--env wants KEY=VALUE"),
        (["start", "x", "--", "no-such-program-xyz"], "command not found"),
        (["start", "x", "--", "python3 -q"], "separate words"),
        (["start", "bad\tname"], "non-printable"),
        (["start", ""], "must not be empty"),
        (["start", "n" * 101], "too long"),
        (["frobnicate"], "unknown verb"),
    ],
)
def test_start_bad_input(cli: CLI, args: list[str], message: str) -> None:
    proc = cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert cli.ok("list") == ""  # nothing was started


def test_name_taken(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("taken", ["sleep", "30"])
    proc = cli("start", "taken", "--", "sleep", "1")
    assert proc.returncode == 3 and "already exists" in proc.stderr


ODD_NAMES = ["a.b", "c:d", "x.y:z", "#{session_name}", "$0", "%1", "@2", "=x", "-n", "a;",
             "back\\slash", "spa ce", "ünï 日本", "'quote\""]  # fmt: skip


def test_odd_names(ta: tmuxagent.Server, cli: CLI) -> None:
    for name in ODD_NAMES:
        ta.start(name, ["sleep", "30"])
    names = [i.name for i in ta.sessions()]
    assert sorted(names) == sorted(ODD_NAMES)
    for name in ODD_NAMES:  # each name reaches its own session, none another's
        assert ta.session(name).status().name == name
        assert json.loads(cli.ok("status", "--json", "--", name))["name"] == name
    # '.' and ':' are not read as window and pane: 'x' does not exist.
    with pytest.raises(tmuxagent.NoSuchSession):
        ta.session("x").status()
    cli.ok("kill", "--", *ODD_NAMES)
    assert ta.sessions() == []


def test_status_and_list(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("alive", ["sleep", "30"])
    ta.start("dead", prog("exit_with.py", "2")).wait_exit()
    data = json.loads(cli.ok("status", "alive", "--json"))
    for key in ("name", "command", "pid", "alive", "exit_status", "size", "idle", "created"):
        assert key in data
    assert data["alive"] is True and data["command"] == "sleep 30"
    assert data["attach"].endswith("attach -t =alive:")
    listing = json.loads(cli.ok("list", "--json"))
    assert [(d["name"], d["alive"], d["exit_status"]) for d in listing] == [
        ("alive", True, None),
        ("dead", False, 2),
    ]
    table = cli.ok("list")
    assert "exited 2" in table and table.startswith("NAME")
    assert "exit_status: 2" in cli.ok("status", "dead")


def test_kill(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    session = ta.start("stubborn", prog("ignore_hup.py", str(pidfile)))
    session.wait_text("ignoring SIGHUP")
    pid = int(pidfile.read_text())
    state = Path(session.files.root)
    cli.ok("kill", "stubborn")
    # The program ignored the hangup; it must not be left running.
    wait_until(lambda: not _running(pid), what="the stubborn program to end")
    assert not state.exists()
    proc = cli("kill", "stubborn")
    assert proc.returncode == 3
    assert cli("kill").returncode == 2


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] not in "ZX"
    except OSError:
        return False


def test_kill_all(ta: tmuxagent.Server, cli: CLI) -> None:
    for i in range(3):
        ta.start(f"s{i}", ["sleep", "30"])
    cli.ok("kill", "--all")
    assert not ta.is_running()
    assert not ta.state_root.exists()
    cli.ok("kill", "--all")  # nothing to kill is fine
    assert cli.ok("list") == ""


def test_killed_server(ta: tmuxagent.Server, server: libtmux.Server, cli: CLI) -> None:
    session = ta.start("victim", ["sleep", "30"])
    server.kill()
    with pytest.raises(tmuxagent.NoSuchSession, match="server is not running"):
        session.send("x")
    proc = cli("capture", "victim")
    assert proc.returncode == 3 and "not running" in proc.stderr
    assert cli.ok("list") == ""
    ta.start("again", ["sleep", "30"])  # a new server starts on the same socket


def test_attach_print(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("watch me", ["sleep", "30"])
    printed = cli.ok("attach", "watch me", "--print").strip()
    assert printed == f"tmux -u -S {ta.socket_path} attach -t '=watch me:'"
    assert cli.ok("attach", "watch me", "--print", "--read-only").strip().endswith(" -r")
    proc = cli("attach", "watch me")  # no terminal here
    assert proc.returncode == 2 and "needs a terminal" in proc.stderr
    assert cli("attach", "nobody", "--print").returncode == 3


def test_attach_from_a_terminal(ta: tmuxagent.Server, tmp_path: Path) -> None:
    """A human attaches (here: inside another tmux server's pane) and detaches."""
    ta.start("target", prog("fake_repl.py"))
    outer = tmuxagent.Server(tmp_path / "outer.sock")
    try:
        human = outer.start("human", size="100x30")
        human.send(f"{sys.executable} -m tmuxagent -S {ta.socket_path} attach target", enter=True)
        human.wait_text(r"fake> ")
        info = ta.session("target").status()
        assert info.attached
        # The human's 100x30 terminal does not resize the agent's 120x40 window.
        assert (info.cols, info.rows) == (120, 40)
        human.keys("C-b", "d")
        human.wait_text(r"\[detached")
    finally:
        outer.kill_all()


def test_parallel_cli_sessions(ta: tmuxagent.Server, cli: CLI) -> None:
    """16 agents start and drive their own sessions at once, with no server yet."""

    def agent(i: int) -> str:
        name = f"agent-{i}"
        cli.ok("start", name, "--", *prog("fake_repl.py"))
        cli.ok("wait", name, "--text", "fake> $")
        cli.ok("send", name, "--enter", f"echo hello-{i};")
        return cli.ok("wait", name, "--text", f"^hello-{i};$")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(agent, range(16)))
    assert results == [f"hello-{i};\n" for i in range(16)]
    assert len(ta.sessions()) == 16


def test_state_files_are_private(ta: tmuxagent.Server) -> None:
    session = ta.start("private", ["sleep", "30"])
    root = Path(session.files.root)
    assert (ta.state_root.stat().st_mode & 0o077) == 0
    assert (root.stat().st_mode & 0o077) == 0
    # launch.json held the environment: the launcher removes it.
    wait_until(lambda: not (root / "launch.json").exists(), what="launch.json to go")


def test_libtmux_bridge(ta: tmuxagent.Server) -> None:
    ta.start("bridged", ["sleep", "30"])
    server = ta.libtmux()
    assert [s.name for s in server.sessions] == ["bridged"]  # tmux's own name for it
    assert server.sessions[0].active_pane.pane_id == ta.session("bridged")._at.pane().id


def test_kill_reaches_what_left_the_process_group(ta: tmuxagent.Server, tmp_path: Path) -> None:
    shell = ta.start("kids")
    pidfile = tmp_path / "child.pid"
    # A daemon: its own session, and (setsid forks) a child of init, not of the shell.
    shell.run(f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 300' < /dev/null > /dev/null &")
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the daemon")
    pid = int(pidfile.read_text())
    assert _running(pid)
    ta.session("kids").kill()
    wait_until(lambda: not _running(pid), what="the daemon to end")


def test_odd_inputs_give_one_line(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    assert cli("start", "x", "--size", "1²0x40", "--", "true").returncode == 2
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run(  # started from a directory that was deleted meanwhile
        ["sh", "-c", 'cd "$1" && rmdir "$1" && exec "$2" -m tmuxagent -S "$3" start x -- true',
         "sh", str(gone), sys.executable, str(ta.socket_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "--cwd" in proc.stderr
    session = ta.start("lost", ["sleep", "30"])
    import shutil

    shutil.rmtree(session.files.root)
    proc = cli("send", "lost", "x")
    assert proc.returncode == 3 and "files of session 'lost' are gone" in proc.stderr
    assert "Traceback" not in proc.stderr
    with pytest.raises(tmuxagent.UsageError, match="list of words"):
        ta.start("str", "sleep 5")  # type: ignore[arg-type]


def test_a_session_whose_files_are_gone_is_listed_and_killable(
    ta: tmuxagent.Server, cli: CLI
) -> None:
    import shutil

    session = ta.start("lost", ["sh", "-c", "echo ready; exec sleep 30"])
    session.wait_text("^ready$")  # launched: the launcher has read its spec
    shutil.rmtree(session.files.root)
    listed = ta.sessions()
    assert [i.name for i in listed] == ["lost"]
    assert listed[0].alive and "files are gone" in listed[0].command
    assert "lost" in cli.ok("list") and "running" in cli.ok("list")
    proc = cli("read", "lost")
    assert proc.returncode == 3 and "kill lost" in proc.stderr
    cli.ok("kill", "lost")  # as the message says
    assert ta.sessions() == []


def test_bad_input_is_refused_before_anything_else(ta: tmuxagent.Server, cli: CLI) -> None:
    proc = cli("capture", "nosuch", "--lines", "0")
    assert proc.returncode == 2 and "--lines" in proc.stderr
    with pytest.raises(tmuxagent.UsageError, match="working directory"):
        ta.start("x", ["true"], cwd="/nonexistent", env={"": "x"})
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(tmuxagent.UsageError, match="tmux timeout"):
            tmuxagent.Server(ta.socket_path, timeout=bad)
    with pytest.raises(tmuxagent.UsageError, match="timeout"):
        ta.start("x", ready_timeout=float("nan"))
    assert ta.sessions() == []


def test_socket_path_with_percent(tmp_path: Path) -> None:
    odd = tmp_path / "p%sct"
    server = tmuxagent.Server(odd / "s.sock")
    try:
        session = server.start("pct", ["sh", "-c", "echo hello; exec sleep 30"])
        session.wait_text("^hello$", timeout=10)
    finally:
        server.kill_all()


def test_kill_all_on_a_hung_server(ta: tmuxagent.Server, cli: CLI) -> None:
    import signal

    session = ta.start("frozen", ["sleep", "300"])
    pane = session._at.pane()
    os.kill(pane.server_pid, signal.SIGSTOP)
    proc = cli("--tmux-timeout", "0.5", "kill", "--all", timeout=30)
    assert proc.returncode == 0, proc.stderr
    wait_until(lambda: not _running(pane.server_pid), what="the hung server to go")
    wait_until(lambda: not _running(pane.pid), what="its program to go")


def test_output_sizes_follow_the_logs_without_tmux(ta: tmuxagent.Server) -> None:
    session = ta.start("talk", ["sh", "-c", "echo one; read x; echo two; exec sleep 300"])
    session.wait_text("^one$")
    infos = ta.sessions()
    assert ta.output_sizes(infos) == {"talk": infos[0].output_bytes} != {"talk": 0}
    session.send("", enter=True, wait="^two$")
    assert ta.output_sizes(infos)["talk"] > infos[0].output_bytes  # the same infos
    session.kill()
    assert ta.output_sizes(infos) == {}  # its files are gone


def test_screens_and_states_of_more_sessions_than_one_tmux_call_takes(
    ta: tmuxagent.Server,
) -> None:
    """tmux refuses a command line of about 16 KB: screens() and states() of
    many sessions (long names here) are asked in several calls, none lost
    (one call used to fail, and the sessions before the fit were dropped)."""
    from tmuxagent import _screen

    names = [f"{i:02d}" + "x" * 98 for i in range(40)]  # ~40 x 500 bytes of commands
    for name in names:
        ta.start(name, ["sh", "-c", f"echo {name[:2]}; exec sleep 300"])
    for name in names:
        ta.session(name).wait_text(f"^{name[:2]}$")
    screens = ta.screens(names)
    assert sorted(screens) == names
    assert all(screens[n].text.startswith(n[:2]) for n in names)
    assert sorted(ta.states()) == names
    assert _screen.COMMAND_BYTES < 15_000  # under what tmux takes (TMUX-FACTS)


def test_screens_and_states_leave_out_sessions_gone(ta: tmuxagent.Server) -> None:
    """A session gone (last in the list, or named like an error of tmux's)
    is left out; the others are there."""
    ta.start("a", ["sh", "-c", "echo one; exec sleep 300"]).wait_text("^one$")
    gone = ta.start("way too long", ["sleep", "300"])
    infos = ta.sessions()
    gone.kill()
    assert ta.screens(["gone"]) == {}
    assert list(ta.screens(["a", "way too long"])) == ["a"]
    assert list(ta.screens(["way too long", "a"])) == ["a"]
    assert list(ta.states(infos)) == ["a"]
