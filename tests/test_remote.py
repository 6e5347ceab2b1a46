"""Remote hosts, against a real OpenSSH server on 127.0.0.1.

The host is this machine through sshd, so a remote verb given ``-S`` the
test's own tmux socket works on the test's own server: what it did can be
checked locally. The host's side (its tmuxagent server, the code brought
over) lives in directories of this module's, set for sshd's sessions with
``SetEnv``; all of it is stopped at the end.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, wait_until
from tests.sshd import Sshd, available, kill_processes, processes

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))


def start_host(root: Path, alias: str, env: str = "") -> Sshd:
    """An sshd whose sessions keep their runtime and cache directories in ``root``."""
    for name in ("runtime", "cache"):
        (root / name).mkdir(mode=0o700, parents=True, exist_ok=True)
    env = f"XDG_RUNTIME_DIR={root}/runtime XDG_CACHE_HOME={root}/cache {env}"
    return Sshd(root / "sshd", alias=alias, extra=f"SetEnv {env}\n").start()


#: The hosts' directory of this module's run.
HOSTS_ROOT: list[str] = []


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sshd, Sshd]]:
    """Two hosts (two sshd), reached through one ssh config."""
    root = tmp_path_factory.mktemp("hosts")
    HOSTS_ROOT[:] = [str(root)]
    one = start_host(root / "one", "hostone")
    two = start_host(root / "two", "hosttwo")
    config = root / "ssh_config"
    config.write_text(one.config.read_text() + two.config.read_text())
    saved = os.environ.get("TMUXAGENT_SSH_COMMAND")
    os.environ["TMUXAGENT_SSH_COMMAND"] = f"ssh -F {config}"
    try:
        for h in (one, two):  # the channels, warm: no test sees the first call's note
            subprocess.run([sys.executable, "-m", "tmuxagent", "-H", h.alias, "list"],
                           capture_output=True, check=True, timeout=60)  # fmt: skip
        yield one, two
    finally:
        if saved is None:
            os.environ.pop("TMUXAGENT_SSH_COMMAND", None)
        else:
            os.environ["TMUXAGENT_SSH_COMMAND"] = saved
        one.stop()
        two.stop()
        kill_processes(str(root))


@pytest.fixture
def host(hosts: tuple[Sshd, Sshd]) -> str:
    return hosts[0].alias


def test_verbs_run_on_the_host(ta: tmuxagent.Server, cli: CLI, host: str) -> None:
    started = cli("-H", host, "start", "py", "--", sys.executable, "-q")
    assert started.returncode == 0, started.stderr
    assert "started 'py'" in started.stdout
    py = ta.session("py")  # the host is this machine: the session is on the test's server
    py.wait_text(">>> $")  # typed before the prompt, the echo is not told from the output
    assert cli.ok("-H", host, "send", "py", "6 * 7", "--enter", "--wait", "^42$") == "42\n"
    assert py.capture().text.count("42") >= 1
    assert cli.ok("-H", host, "wait", "py", "--state", "ready").startswith("ready")
    listed = json.loads(cli.ok("-H", host, "list", "--json"))
    assert [(e["name"], e["host"], e["state"]) for e in listed] == [("py", host, "ready")]
    assert json.loads(cli.ok("list", "--json"))[0]["host"] is None  # here
    status = cli("-H", host, "status", "nosuch")
    assert (status.returncode, status.stdout) == (3, "")
    assert status.stderr.startswith("tmuxagent: no session named 'nosuch'")
    waited = cli("-H", host, "wait", "py", "--text", "never", "--timeout", "0.5")
    assert waited.returncode == 1 and "timed out" in waited.stderr
    # Through the environment, as for every call of an agent.
    assert "py" in cli.ok("list", env={"TMUXAGENT_HOST": host})


def test_files_handed_over_and_taken_home(
    ta: tmuxagent.Server, cli: CLI, host: str, tmp_path: Path
) -> None:
    ta.start("py", [sys.executable, "-q"]).wait_text(">>> ")
    code = tmp_path / "code.py"
    code.write_text('print("pasted", 6 * 7)\n')
    assert "pasted 42" in cli.ok("-H", host, "paste", "py", str(code), "--enter",
                                 "--wait", "pasted 42")  # fmt: skip
    assert "piped 1" in cli.ok("-H", host, "paste", "py", "--enter", "--wait", "piped 1",
                               input='print("piped", 1)\n')  # fmt: skip
    cast = tmp_path / "out.cast"
    cli.ok("-H", host, "record", "py", "--cast", str(cast))
    header = json.loads(cast.read_text().splitlines()[0])
    assert header["version"] == 2 and oct(cast.stat().st_mode & 0o777) == "0o600"


def test_attach_prints_an_ssh_command(cli: CLI, ta: tmuxagent.Server, host: str) -> None:
    ta.start("sh")
    printed = cli.ok("-H", host, "attach", "sh", "--print").strip()
    assert printed.startswith("ssh -F ") and f" -t -o RemoteCommand=none -- {host} " in printed
    assert "attach -t =sh:" in printed and "BatchMode" not in printed
    # Every attach command a remote verb prints is that ssh command.
    assert json.loads(cli.ok("-H", host, "status", "sh", "--json"))["attach"] == printed
    started = cli.ok("-H", host, "start", "other", "--", "sleep", "300")
    assert f"watch or take over: {printed.replace('=sh:', '=other:')}" in started
    # ... and it attaches (run in a pane of its own: it needs a terminal).
    viewer = ta.start("viewer", shlex.split(printed))
    ta.session("sh").send("echo seen-through-ssh", enter=True)
    viewer.wait_text("seen-through-ssh")
    refused = cli("-H", host, "attach", "sh")  # no terminal here
    assert refused.returncode == 2 and "a human can run: ssh" in refused.stderr
    dashboard = cli("-H", host, "dashboard")  # here, with no terminal
    assert dashboard.returncode == 2 and "needs a terminal" in dashboard.stderr


@pytest.mark.parametrize("bad", ["-oProxyCommand=touch /tmp/x", "a b", "a;b", "$(id)",
                                 "h`id`", "user@", "@h", "h:0", "h:99999", "h:x", "h\n",
                                 "ssh://-x", "a|b", "a&b", "[::1"])  # fmt: skip
def test_bad_hosts_are_refused_before_ssh(cli: CLI, bad: str) -> None:
    proc = cli("-H", bad, "list", env={"TMUXAGENT_SSH_COMMAND": "false"})
    assert proc.returncode == 2, (bad, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "host" in proc.stderr


def test_unreachable_or_refused_host_exits_4(cli: CLI, tmp_path: Path) -> None:
    from tests.sshd import free_port

    port = free_port()  # nobody listens there
    proc = cli("-H", f"127.0.0.1:{port}", "list", timeout=60)
    assert proc.returncode == 4 and f"127.0.0.1:{port}" in proc.stderr
    assert proc.stderr.count("\n") == 1
    refused = Sshd(tmp_path / "sshd", alias="refuses").start()  # our key is not authorized
    try:
        (tmp_path / "sshd" / "authorized_keys").write_text("")
        proc = cli("-H", "refuses", "list", env={"TMUXAGENT_SSH_COMMAND": refused.ssh_command})
        assert proc.returncode == 4 and "refuses" in proc.stderr
        assert "Permission denied" in proc.stderr and proc.stderr.count("\n") == 1
    finally:
        refused.stop()


def test_the_first_call_brings_tmuxagent_over_once(hosts: tuple[Sshd, Sshd], cli: CLI) -> None:
    """A host of its own (nothing brought over yet), whose shell prints a
    line of its own first (BASH_ENV: as a chatty rc file would)."""
    tmp_path = Path(tempfile.mkdtemp(prefix="ta-"))  # short: its socket's path must fit
    noise = tmp_path / "noise.sh"
    noise.write_text('[ -n "$SAID" ] || { export SAID=1; echo "Welcome to the fresh host"; }\n')
    fresh = start_host(tmp_path / "fresh", "freshhost", env=f"BASH_ENV={noise}")
    env = {"TMUXAGENT_SSH_COMMAND": fresh.ssh_command}
    try:
        first = cli("-H", "freshhost", "list", env=env)
        assert first.returncode == 0, first.stderr
        assert first.stderr.count("\n") == 1 and "was copied to freshhost:" in first.stderr
        assert f"{tmp_path}/fresh/cache/tmuxagent/remote/" in first.stderr
        again = cli("-H", "freshhost", "list", env=env)
        assert (again.returncode, again.stderr) == (0, "")
    finally:
        fresh.stop()
        kill_processes(str(tmp_path))
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_two_hosts_at_once(hosts: tuple[Sshd, Sshd], cli: CLI, ta: tmuxagent.Server) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-m", "tmuxagent", "-H", h.alias, "-S",
                          str(ta.socket_path), "start", f"s-{h.alias}", "--", "sleep", "30"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for h in hosts
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert {i.name for i in ta.sessions()} == {"s-hostone", "s-hosttwo"}


def test_a_lost_connection_mid_wait_exits_4(cli: CLI, ta: tmuxagent.Server, host: str) -> None:
    ta.start("quiet", ["sleep", "300"])
    argv = [sys.executable, "-m", "tmuxagent", "-H", host, "-S", str(ta.socket_path),
            "wait", "quiet", "--text", "never", "--timeout", "60"]  # fmt: skip
    waiter = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child = wait_for_fork(waiter)
    config = os.environ["TMUXAGENT_SSH_COMMAND"].split()[-1].encode()  # this module's
    masters = [p for p in processes() if b"ControlMaster=yes" in b" ".join(p[1])
               and any(config in w for w in p[1])]  # fmt: skip
    assert masters
    for pid, _ in masters:  # the connection to the host drops
        os.kill(pid, signal.SIGKILL)
    _, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 4 and "lost the connection to hostone" in err
    assert err.count("\n") == 1
    wait_gone(child)  # the verb on the host stopped too


def test_ctrl_c_stops_the_verb_on_the_host(ta: tmuxagent.Server, host: str) -> None:
    ta.start("quiet", ["sleep", "300"])
    argv = [sys.executable, "-m", "tmuxagent", "-H", host, "-S", str(ta.socket_path),
            "wait", "quiet", "--text", "nevermore", "--timeout", "60"]  # fmt: skip
    waiter = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child = wait_for_fork(waiter)
    waiter.send_signal(signal.SIGINT)
    _, err = waiter.communicate(timeout=30)
    assert err == "", err
    assert waiter.returncode == 130
    wait_gone(child)


def verb_forks() -> list[int]:
    """The host's forks that run a verb: a process of tmuxagent's server whose
    parent is one too (a fork keeps its parent's command line), but for the
    one that waits for the next call (it holds the listening socket)."""
    root = HOSTS_ROOT[0].encode()  # this module's hosts' (not another run's)
    serving = {
        pid
        for pid, words in processes()
        if any(b"tmuxagent._serve" in w for w in words) and any(root in w for w in words)
    }
    forks = []
    for pid in serving:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        parent = int(status.split("PPid:\t", 1)[1].split("\n", 1)[0])
        if parent in serving and "State:\tZ" not in status and not _listens(pid):
            forks.append(pid)
    return forks


def _listens(pid: int) -> bool:
    """Whether ``pid`` holds a listening socket of a host's server."""
    with open("/proc/net/unix") as f:  # flags 4th (10000: listening), inode 7th, path 8th
        listening = {f"socket:[{w[6]}]" for w in map(str.split, f) if len(w) > 7
                     and w[3] == "00010000" and "/serve-" in w[7]}  # fmt: skip
    try:
        fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return bool(listening.intersection(fds))


def wait_for_fork(caller: subprocess.Popen[str], timeout: float = 30) -> int:
    """The one verb running on the host (tests run one at a time)."""

    def forks() -> list[int]:
        assert caller.poll() is None, caller.communicate()
        return verb_forks()

    found = wait_until(forks, timeout, "a verb running on the host")
    assert isinstance(found, list) and len(found) == 1, found
    return int(found[0])


def wait_gone(pid: int, timeout: float = 15) -> None:
    wait_until(lambda: pid not in verb_forks(), timeout, f"the verb on the host ({pid}) to end")


def test_the_bootstrap_says_what_a_host_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run here as on a host: without tmux on PATH it says so (the caller
    prints it, naming the host, and exits 4); tmux versions are read."""
    import io

    from tmuxagent import _bootstrap

    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    said = _bootstrap.bootstrap(io.BytesIO(b""), io.StringIO())
    assert said == {"error": "it has no tmux on PATH; install tmux 3.2 or newer there"}
    assert _bootstrap.too_old("tmux 3.1c") and _bootstrap.too_old("tmux 2.9")
    assert not any(map(_bootstrap.too_old, ["tmux 3.2", "tmux 3.3a", "tmux next-3.6",
                                              "tmux master", "tmux 10.0"]))  # fmt: skip


def test_a_damaged_copy_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from tmuxagent import _bootstrap, _ssh

    data = _ssh.payload()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    want = {"sha256": _ssh.sha256(data), "size": len(data)}
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 1
    with pytest.raises(RuntimeError, match="damaged"):
        _bootstrap.unpack(want, io.BytesIO(bytes(damaged)), io.StringIO())
    target = Path(_bootstrap.unpack(want, io.BytesIO(data), io.StringIO()))
    assert (target / "tmuxagent" / "_serve.py").is_file()
    assert oct((tmp_path / "tmuxagent" / "remote").stat().st_mode & 0o777) == "0o700"


def test_the_python_api_on_a_host(ta: tmuxagent.Server, host: str, tmp_path: Path) -> None:
    remote = tmuxagent.Server(ta.socket_path, host=host)
    assert isinstance(remote, tmuxagent.Server) and remote.socket_path == ta.socket_path
    py = remote.start("py", [sys.executable, "-q"])
    assert ta.session("py").status().alive  # made on the host (this machine, over sshd)
    sent = py.send("print(6 * 7)", enter=True, wait=r"^(\d+)$")
    assert sent.match is not None and sent.match.group(1) == "42"
    assert py.wait_state("ready").state == "ready"
    assert [i.name for i in remote.sessions()] == ["py"]
    assert remote.screens(["py"])["py"].text.count("42") == 1
    assert remote.states()["py"].state == "ready"
    with pytest.raises(tmuxagent.NoSuchSession):
        remote.session("nosuch").capture()
    with pytest.raises(tmuxagent.WaitTimeout) as timed_out:
        py.wait_text("never", timeout=0.3)
    assert timed_out.value.exit_code == 1
    tracker = tmuxagent.StateTracker(remote)  # what the dashboard uses
    assert tracker.update(remote.sessions())["py"][1].state == "ready"
    cast = tmp_path / "py.cast"
    py.save_cast(str(cast))
    assert json.loads(cast.read_text().splitlines()[0])["version"] == 2
    assert py.attach_command()[-1].endswith("attach -t =py:")
    py.kill()
    assert remote.sessions() == []
    remote.close()


def test_the_python_api_drops_a_call_on_ctrl_c(ta: tmuxagent.Server, host: str) -> None:
    import threading

    remote = tmuxagent.Server(ta.socket_path, host=host)
    quiet = remote.start("quiet", ["sleep", "300"])
    seen: list[int] = []  # the call's fork on the host, as Ctrl-C comes

    def ctrl_c() -> None:
        seen.extend(verb_forks())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Timer(1.0, ctrl_c).start()
    with pytest.raises(KeyboardInterrupt):
        quiet.wait_text("never", timeout=60)
    assert seen, "the call's fork on the host was not seen"
    # The host stopped the wait (and its fork ended).
    wait_until(lambda: not verb_forks(), 15, "the call on the host to end")
    assert quiet.status().alive  # a new connection, the same session
    remote.close()


async def test_the_dashboard_follows_a_host(ta: tmuxagent.Server, host: str) -> None:
    from tests.test_dashboard import TICK, preview_text, table_cell, until
    from tmuxagent.dashboard import DashboardApp

    ta.start("remote-one", ["sh", "-c", "echo from-the-host; exec sleep 300"])
    remote = tmuxagent.Server(ta.socket_path, host=host)
    app = DashboardApp(remote, interval=TICK)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "from-the-host" in preview_text(app, "remote-one")
                    if app.sessions else False)  # fmt: skip
        await until(pilot, lambda: table_cell(app, "remote-one", "state") == "working")
        ta.start("remote-two", ["sleep", "300"])
        await until(pilot, lambda: "remote-two" in app.sessions)
    remote.close()


async def test_the_dashboard_shows_hosts_together(
    ta: tmuxagent.Server, hosts: tuple[Sshd, Sshd], tmp_path: Path
) -> None:
    from textual.widgets import Input

    from tests.sshd import free_port
    from tests.test_dashboard import TICK, preview_text, until
    from tmuxagent.dashboard import DashboardApp
    from tmuxagent.dashboard.hosts import Hosts

    sockets = tmp_path / "s"
    sockets.mkdir(mode=0o700)
    ta.start("here", ["sh", "-c", "echo on-this-machine; exec sleep 300"])
    servers: dict[str, tmuxagent.Server] = {"": ta}
    for sshd in hosts:  # each host's server on a socket of its own (both are this machine)
        servers[sshd.alias] = tmuxagent.Server(sockets / sshd.alias, host=sshd.alias)
        servers[sshd.alias].start("job", ["sh", "-c", f"echo on-{sshd.alias}; exec sleep 300"])
    servers[f"127.0.0.1:{free_port()}"] = tmuxagent.Server(host=f"127.0.0.1:{free_port()}")
    view = Hosts(servers)
    app = DashboardApp(view, interval=TICK)
    names = ("here", "hostone/job", "hosttwo/job")
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: set(names) <= set(app.sessions), timeout=60)
            for name in names:
                await until(pilot, lambda n=name: "on-" in preview_text(app, n))
            assert "on-hosttwo" in preview_text(app, "hosttwo/job")
            assert any("cannot reach 127.0.0.1" in e for e in view.errors.values())
            await until(pilot, lambda: "cannot reach 127.0.0.1" in app._status_text)
            app.select("hostone/job")  # the dashboard's own actions, on a host's session
            await pilot.press("i")
            app.screen.query_one(Input).value = "typed-from-the-dashboard"
            await pilot.press("enter")
            await until(pilot, lambda: "typed-from-the-dashboard"
                        in preview_text(app, "hostone/job"))  # fmt: skip
            await pilot.press("x", "y")
            await until(pilot, lambda: "hostone/job" not in app.sessions)
            assert servers["hostone"].sessions() == []
    finally:
        for label, server in servers.items():
            if label in ("hostone", "hosttwo"):
                server.kill_all()
                server.close()  # type: ignore[attr-defined]


def test_a_host_server_gone_behind_the_forward(cli: CLI, host: str) -> None:
    """The channel's socket still answers, with nobody behind it: the call
    opens the channel again (its server, once), and is run once."""
    servers = [pid for pid, words in processes() if any(b"tmuxagent._serve" in w for w in words)
               and any(HOSTS_ROOT[0].encode() + b"/one/" in w for w in words)]  # fmt: skip
    assert servers
    for pid in servers:
        os.kill(pid, signal.SIGKILL)
    started = cli("-H", host, "start", "once", "--", "sleep", "300")
    assert started.returncode == 0, started.stderr
    assert cli("-H", host, "list").stdout.count("once") == 1


def test_record_cast_is_made_here_as_a_local_one_is(
    cli: CLI, ta: tmuxagent.Server, host: str, tmp_path: Path
) -> None:
    ta.start("py", [sys.executable, "-q"]).wait_text(">>> ")
    target = tmp_path / "elsewhere"
    target.write_text("keep me\n")
    link = tmp_path / "out.cast"
    link.symlink_to(target)
    cli.ok("-H", host, "record", "py", "--cast", str(link))
    assert target.read_text() == "keep me\n" and not link.is_symlink()  # replaced, not followed
    assert json.loads(link.read_text().splitlines()[0])["version"] == 2
    failed = cli("-H", host, "record", "nosuch", "--cast", str(tmp_path / "none.cast"))
    assert failed.returncode == 3 and not (tmp_path / "none.cast").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing left


def test_paste_file_is_the_second_word(
    cli: CLI, ta: tmuxagent.Server, host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ta.start("py", [sys.executable, "-q"]).wait_text(">>> ")
    monkeypatch.chdir(tmp_path)
    Path("done").write_text('print("do" + "ne")\n')
    out = cli.ok("-H", host, "paste", "py", "done", "--enter", "--wait", "^done", cwd=tmp_path)
    assert out.strip().endswith("done")


def test_a_closed_stdout_ends_the_call_at_once(ta: tmuxagent.Server, host: str) -> None:
    ta.start("py", [sys.executable, "-q"]).wait_text(">>> ")
    argv = [sys.executable, "-m", "tmuxagent", "-H", host, "-S", str(ta.socket_path),
            "events", "py"]  # fmt: skip
    proc = subprocess.run(["bash", "-c", f"{shlex.join(argv)} | head -1"],
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert proc.returncode == 0 and '"event": "state"' in proc.stdout


def test_a_bad_call_is_an_error_and_the_connection_stays(ta: tmuxagent.Server, host: str) -> None:
    remote = tmuxagent.Server(ta.socket_path, host=host)
    remote.start("py", [sys.executable, "-q"])
    with pytest.raises(tmuxagent.UsageError, match="bad call"):
        remote._call("py", "capture", bogus=1)  # type: ignore[attr-defined]
    assert [i.name for i in remote.sessions()] == ["py"]  # the same connection answers
    remote.close()


def test_a_hosts_error_brings_data_only() -> None:
    from tmuxagent._codec import decode, decode_error, encode

    hostile = {
        "type": "WaitTimeout",
        "message": "x",
        "attrs": {
            "__dict__": {},
            "add_note": 1,
            "exit_code": "str",
            "args": [1, 2],
            "screen": "last",
        },
    }
    exc = decode_error(hostile, "h")
    assert isinstance(exc, tmuxagent.WaitTimeout) and exc.exit_code == 1
    assert exc.screen == "last" and exc.args == ("x",)  # type: ignore[attr-defined]
    exc.add_note("still a method")
    record = encode(tmuxagent.RunResult("out", 0, "/"))
    assert decode(record) == tmuxagent.RunResult("out", 0, "/")
    for index, wrong in ((0, ["a", "list"]), (1, True), (2, {"~t": ["/"]})):
        fields = list(record["f"])
        fields[index] = wrong
        with pytest.raises(ValueError, match="RunResult"):  # a field of another type
            decode({"~r": "RunResult", "f": fields})
    with pytest.raises(ValueError, match="fields"):
        decode({"~r": "RunResult", "f": record["f"][:2]})
    odd = decode_error({"type": "NotOurs", "message": "m"}, "h")
    assert type(odd) is tmuxagent.TmuxError and str(odd) == "h: m"


def test_hosts_never_mistake_a_local_name_for_a_hosts(ta: tmuxagent.Server, tmp_path: Path) -> None:
    from tmuxagent.dashboard.hosts import HERE, Hosts

    other = tmuxagent.Server(tmp_path / "other.sock")  # stands for a host: routing only
    try:
        ta.start("hostone/job", ["sleep", "300"])  # a local name that reads like a host's
        other.start("job", ["sleep", "300"])
        view = Hosts({"": ta, "hostone": other})
        names = sorted(i.name for i in view.sessions())
        assert names == [f"{HERE}hostone/job", "hostone/job"]
        assert view.session(f"{HERE}hostone/job").status().name == "hostone/job"
        view.session("hostone/job").kill()
        assert other.sessions() == [] and [i.name for i in ta.sessions()] == ["hostone/job"]
        assert view.states([]) == {}
    finally:
        other.kill_all()


def test_a_stalled_host_is_left_behind(
    ta: tmuxagent.Server, hosts: tuple[Sshd, Sshd], tmp_path: Path
) -> None:
    """A host whose tmuxagent server stops answering (stopped here with
    SIGSTOP) holds up the dashboard's view of the hosts at most BUDGET
    seconds once: its sessions stay as last seen, marked, then go when its
    call gives up (the API's own deadline); they are back once it answers."""
    from tmuxagent.dashboard.hosts import Hosts

    sockets = tmp_path / "s"
    sockets.mkdir(mode=0o700)
    servers: dict[str, tmuxagent.Server] = {"": ta}
    for sshd in hosts:
        servers[sshd.alias] = tmuxagent.Server(sockets / sshd.alias, host=sshd.alias, timeout=0.5)
        servers[sshd.alias].start("job", ["sleep", "300"])
    view = Hosts(servers)
    both = {"hostone/job", "hosttwo/job"}
    assert {i.name for i in view.sessions()} == both
    root = HOSTS_ROOT[0].encode() + b"/two/"
    stopped = [pid for pid, words in processes() if any(b"tmuxagent._serve" in w for w in words)
               and any(root in w for w in words)]  # fmt: skip
    assert stopped
    try:
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        assert {i.name for i in view.sessions()} == both  # hosttwo's as last seen
        assert "hosttwo: no answer in" in view.errors["hosttwo"]
        assert {i.name for i in view.sessions()} == both  # not asked again meanwhile
        assert "hosttwo: no answer for" in view.errors["hosttwo"]
        assert view.output_sizes(view.sessions()).keys() == {"hostone/job"}
        with pytest.raises(tmuxagent.HostError, match="no answer for"):  # at once, not frozen
            view.session("hosttwo/job")
        view.session("hostone/job").status()  # the other host's actions work

        def given_up() -> bool:  # the call's deadline: 2 x 0.5 + 5 s
            return "hosttwo/job" not in {i.name for i in view.sessions()}

        wait_until(given_up, 30, "the call to the stalled host to give up")
        assert "is the host stalled?" in view.errors["hosttwo"]
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    wait_until(lambda: {i.name for i in view.sessions()} == both and not view.errors, 60,
               "the host to be back")  # fmt: skip
    for label in ("hostone", "hosttwo"):
        servers[label].kill_all()
        servers[label].close()  # type: ignore[attr-defined]


def test_events_and_read_stream_over_ssh(ta: tmuxagent.Server, host: str) -> None:
    """Server(host=).events() streams the host's events on a connection of
    their own (closing it ends the watcher there); read_stream() moves the
    host's read cursor only past what was delivered."""
    remote = tmuxagent.Server(ta.socket_path, host=host)
    events = remote.events(timeout=60)
    reader = remote.start("rd", ["sh", "-c", "echo one; echo two; exec sleep 300"])
    calls = set(verb_forks())  # the fork that runs remote's calls
    seen = [next(events)]  # rd's state: the watcher is on (events start when iterated)
    watcher = set(verb_forks()) - calls
    assert len(watcher) == 1, watcher
    ender = remote.start("ev", ["sh", "-c", "read x; exit 3"])
    for event in events:
        seen.append(event)
        if event["event"] == "started" and event["session"] == "ev":
            ender.send("now", enter=True)  # it ends once seen alive: an "exited" event
        if event["event"] == "exited" and event["session"] == "ev":
            break
    assert seen[0]["session"] == "rd" and seen[0]["previous"] is None, seen
    assert seen[-1]["event"] == "exited" and seen[-1]["exit_status"] == 3, seen
    events.close()  # type: ignore[attr-defined]
    wait_gone(watcher.pop())

    reader.wait_text("two")
    with reader.read_stream() as stream:
        pieces = list(stream)
        stream.delivered(0)  # nothing reached its reader
    assert "one\ntwo" in "".join(pieces)
    with reader.read_stream() as stream:
        assert list(stream) == pieces
        stream.delivered(len(stream))
    assert reader.read() == ""
    remote.kill_all()
    remote.close()  # type: ignore[attr-defined]


def test_a_hostile_hosts_answers_are_refused(ta: tmuxagent.Server, host: str) -> None:
    """What a host answers is checked for its shape (a bad one is a
    HostError, never another exception or a value of another type), NaN is
    no number, and an attach command must be ssh to it, not what the host
    chose; a call the client refuses leaves no answer behind."""
    import socket as sockets
    import threading

    from tmuxagent._codec import encode
    from tmuxagent._remote import attach_command, attach_via
    from tmuxagent._ssh import Link, parse_host
    from tmuxagent._wire import RESULT, Wire

    link = Link(parse_host(host))
    good = shlex.join(attach_via(link)) + " 'tmux attach -t =x:'"
    assert attach_command(link, good)[-1] == "tmux attach -t =x:"
    for bad in ("sh -c 'touch /tmp/pwned'", good.replace("ssh", "sh", 1), good + " more", "'"):
        with pytest.raises(tmuxagent.HostError, match="a bad answer to attach"):
            attach_command(link, bad)

    def answering(answer: bytes) -> Wire:
        """A connection to a fake host that answers a call with ``answer``."""
        ours, theirs = sockets.socketpair()

        def fake_host() -> None:
            with theirs:
                wire = Wire(theirs)
                if wire.read() is not None:
                    wire.send(RESULT, answer)
                    wire.read()  # until the client leaves

        threading.Thread(target=fake_host, daemon=True).start()
        return Wire(ours)

    remote = tmuxagent.Server(host=host)
    remote._about = {"socket_path": "/s"}  # type: ignore[attr-defined]
    info = ta.start("i", ["sleep", "300"]).status()
    info.created = 12345.5
    for call, answer in [
        (remote.sessions, b'{"value": 1}'),
        (lambda: remote.output_sizes([]), b'{"value": [1, []]}'),
        (lambda: remote.screens(["x"]), b'{"value": {"~d": [[1, 2]]}}'),
        (remote.is_running, b'{"value": NaN}'),
        (remote.kill_all, b'{"item": 1}'),
        (remote.sessions, b'{"value": [{"~r": "Capture", "f": []}]}'),
        (remote.sessions, json.dumps({"value": encode([info])}).replace("12345.5", "1e999")
         .encode()),
        (lambda: remote.output_sizes([]), b'{"value": [{"~d": [["a", true]]}, []]}'),
    ]:  # fmt: skip
        remote._wire = answering(answer)  # type: ignore[attr-defined]
        with pytest.raises(tmuxagent.HostError, match="a bad answer"):
            call()
        remote.close()  # type: ignore[attr-defined]
    real = tmuxagent.Server(ta.socket_path, host=host)
    session = real.start("s", ["sh", "-c", "echo hello; exec sleep 300"])
    with pytest.raises(tmuxagent.UsageError):  # refused here or there: no answer left behind
        session.wait_text("x", timeout=-100)
    assert isinstance(session.capture(), tmuxagent.Capture)
    assert isinstance(real.sessions(), list)
    real.close()  # type: ignore[attr-defined]
    # How long a call may take: its tmux calls' time (2 x 1 + 5 s), and its waits'.
    within = tmuxagent.Server(host=host, timeout=1)._within  # type: ignore[attr-defined]
    assert within("start", {"wait": "x"}) == 7 + 10 + 30
    assert within("start", {"ready_timeout": 2}) == 7 + 2
    assert within("wait_idle", {"timeout": None}) is None
    assert within("wait_text", {"timeout": -1}) is None  # the host refuses it


def test_hosts_say_nothing_of_no_server_here(tmp_path: Path) -> None:
    """`dashboard --host` on a machine with no server of its own: no warning."""
    from tmuxagent.dashboard.hosts import Hosts

    other = tmuxagent.Server(tmp_path / "other.sock")  # stands for a host: routing only
    try:
        other.start("job", ["sleep", "300"])
        view = Hosts({"": tmuxagent.Server(tmp_path / "none.sock"), "h": other})
        assert [i.name for i in view.sessions()] == ["h/job"] and view.errors == {}
    finally:
        other.kill_all()
