"""States (working, ready, asking, idle, exited) of real programs and of the
four agent CLIs' screens (tests/programs/fake_agent.py draws them), told by
the profiles in tmuxagent/profiles; profiles as data, and yours over them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, PROGRAMS, needs
from tmuxagent import _profiles
from tmuxagent._states import Look, State, detect
from tmuxagent.errors import UsageError


def _agent(ta: tmuxagent.Server, tmp_path: Path, cli: str) -> tmuxagent.Session:
    """The fake of ``cli``, started as the real one is: a command of its name."""
    command = tmp_path / cli
    command.write_text(
        f'#!/bin/sh\nexec {sys.executable} {PROGRAMS / "fake_agent.py"} {cli} "$@"\n'
    )
    command.chmod(0o755)
    return ta.start(cli, [str(command), "--work", "1.5"], size=(80, 24))


ANSWERS = {"claude": ["1"], "codex": ["y"], "gemini": ["1"], "aider": ["y", "Enter"]}
QUESTIONS = {
    "claude": "Do you want to proceed?",
    "codex": "Would you like to run the following command?",
    "gemini": "Action Required",
    "aider": "Run shell command?",
}


@pytest.mark.parametrize("cli", sorted(ANSWERS))
def test_agent_cli_states_at_every_phase(ta: tmuxagent.Server, tmp_path: Path, cli: str) -> None:
    session = _agent(ta, tmp_path, cli)
    assert session.wait_state("ready", timeout=10).profile == cli
    session.send("add a --verbose flag")
    session.keys("Enter")
    # While it works, its screen says "approve?", "(y/n)" and "Do you want to
    # approve this?" in its output and status line: never asking until the
    # dialog comes, and asking from then on until it is answered.
    seen: list[State] = []
    while not seen or seen[-1].state != "asking":
        seen.append(session.state())
        assert len(seen) < 500, seen[-5:]
    phases = [s.state for i, s in enumerate(seen) if i == 0 or seen[i - 1].state != s.state]
    assert phases in (["working", "asking"], ["ready", "working", "asking"]), seen
    assert sum(s.state == "working" for s in seen) >= 3  # the working phase was seen, at length
    asking = seen[-1]
    assert asking.profile == cli and asking.detail == QUESTIONS[cli]
    assert session.state().state == "asking"  # it stays asking until answered
    for key in ANSWERS[cli]:
        session.keys(key) if key == "Enter" else session.send(key)
    assert session.wait_state("working", timeout=10).profile == cli
    assert session.wait_state("ready", timeout=10).profile == cli


def test_a_shell_ready_then_running(ta: tmuxagent.Server) -> None:
    shell = ta.start("sh")
    assert shell.wait_state("ready", timeout=10).profile == "shell"
    shell.send("sleep 30", enter=True)
    state = shell.wait_state("working", timeout=10)
    assert (state.profile, state.detail) == ("shell", "running sleep")
    shell.keys("C-c")
    shell.wait_state("ready", timeout=10)


def test_questions_on_the_cursor_row(ta: tmuxagent.Server) -> None:
    asks = "echo 'Proceed? (y/n) comes later'; read -p 'Overwrite x? [y/N] ' a"
    yn = ta.start("yn", ["bash", "-c", asks])
    secret = ta.start("pw", ["bash", "-c", "read -s -p 'Password: ' a"])
    enter = ta.start("enter", ["bash", "-c", "read -p 'Press Enter to continue' a"])
    assert yn.wait_state("asking", timeout=10).detail == "Overwrite x? [y/N]"
    assert secret.wait_state("asking", timeout=10).detail == "password: Password:"
    assert enter.wait_state("asking", timeout=10).detail == "Press Enter to continue"
    yn.send("y", enter=True)
    assert yn.wait_state("exited", timeout=10).detail == "exit status 0"


@needs("less")
def test_a_pager_at_its_end_is_asking(ta: tmuxagent.Server, tmp_path: Path) -> None:
    pager = ta.start("pager", ["bash", "-c", "seq 1 5 | less"])
    state = pager.wait_state("asking", timeout=10)
    assert (state.profile, state.detail) == ("pager", "pager at its end")
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("".join(f"{i}\n" for i in range(500)))
    long = ta.start("long", ["less", str(numbers)])
    state = long.wait_state("asking", timeout=10)  # its first prompt: the file's name
    assert (state.profile, state.detail) == ("pager", f"pager: {numbers}")


def test_repls_are_ready_at_their_prompts_and_work_between(ta: tmuxagent.Server) -> None:
    py = ta.start("py", ["python3", "-q"])
    assert py.wait_state("ready", timeout=10).detail == "prompt >>>"
    py.send("import time; time.sleep(30)", enter=True)
    # Quiet, but not waiting for input: it works (a sleep, a computation).
    state = py.wait_state("working", timeout=10)
    assert "output" in state.detail or "not reading" in state.detail
    py.keys("C-c")
    py.wait_state("ready", timeout=10)


def test_still_and_waiting_without_a_prompt_is_idle(ta: tmuxagent.Server) -> None:
    code = "print('no prompt here'); input()"
    quiet = ta.start("quiet", ["python3", "-c", code])
    state = quiet.wait_state("idle", timeout=10)
    assert state.profile == "" and state.detail.startswith("no output for")


def test_states_are_told_from_data(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(
        'name = "repls"\nenabled = false\n'  # yours replaces a built-in of that name
    )
    (tmp_path / "cat.toml").write_text(
        'name = "cat"\nprograms = ["cat"]\npriority = 5\n'
        '[[rule]]\nstate = "ready"\nregion = "cursor"\nmatch = "^$"\nquiet = 0.5\n'
        'detail = "waiting for lines"\n'
    )
    profiles = _profiles.load([_profiles.BUILT_IN, str(tmp_path)])
    names = [p.name for p in profiles]
    assert "repls" not in names and "cat" in names
    look = Look([">>> "], program="python3", current="python3", reading=True, quiet=3)
    assert detect(look, profiles).state == "idle"  # no profile for its prompt any more
    look = Look(["a", "a", ""], cursor_y=2, program="cat", current="cat", quiet=1)
    assert detect(look, profiles) == State("ready", "waiting for lines", "cat", detect(
        look, profiles).rule, (2,))  # fmt: skip


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('name = "x"\n[[rule]]\nstate = "busy"\nmatch = "a"\n', "state must be one of"),
        ('name = "x"\n[[rule]]\nstate = "ready"\nmatch = "("\n', "bad regular expression"),
        ('name = "x"\n[[rule]]\nstate = "ready"\nmatch = "a"\nregion = "top:3"\n', "region"),
        ('name = "x"\n[[rule]]\nstate = "ready"\nmatsh = "a"\n', "unknown key 'matsh'"),
        ('name = "x"\n[[rule]]\nstate = "ready"\nquiet = "soon"\n', "number of seconds"),
        ('description = "no name"\n', "'name' is missing"),
        ("name = \n", "profile"),
        ('name = "x"\nrule = [1]\n', "a rule must be a table"),
    ],
)
def test_a_bad_profile_is_named_with_what_is_wrong(
    tmp_path: Path, text: str, complaint: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(UsageError, match=complaint) as info:
        _profiles.load([str(tmp_path)])
    assert str(bad) in str(info.value)


def test_cli_states(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    ta.start("py", ["python3", "-q"]).wait_state("ready", timeout=10)
    ta.start("yn", ["bash", "-c", "read -p 'Go on? [y/N] ' a"]).wait_state("asking", timeout=10)
    status = json.loads(cli.ok("status", "yn", "--json"))
    assert (status["state"], status["state_detail"], status["profile"]) == (
        "asking", "Go on? [y/N]", "questions")  # fmt: skip
    listed = {s["name"]: s["state"] for s in json.loads(cli.ok("list", "--json"))}
    assert listed == {"py": "ready", "yn": "asking"}
    table = cli.ok("list").splitlines()
    assert table[0].split()[:2] == ["NAME", "STATE"] and table[1].split()[:2] == ["py", "ready"]
    assert cli.ok("wait", "yn", "--state", "asking,working") == "asking: Go on? [y/N]\n"
    waited = json.loads(cli.ok("wait", "py", "--state", "ready", "--json"))
    assert waited == {"state": "ready", "state_detail": "prompt >>>", "profile": "repls"}
    late = cli("wait", "py", "--state", "asking", "--timeout", "0.5")
    assert late.returncode == 1 and "it is ready" in late.stderr
    wrong = cli("wait", "py", "--state", "busy")
    assert wrong.returncode == 2 and "unknown state 'busy'" in wrong.stderr
    cli.ok("send", "yn", "--enter", "y")
    gone = cli("wait", "yn", "--state", "ready", "--timeout", "10")
    assert gone.returncode == 3 and "has exited" in gone.stderr
    assert cli.ok("wait", "yn", "--state", "exited,ready").startswith("exited")
    explained = cli.ok("explain", "py")
    assert "decided by profile 'repls'" in explained and "  0 | >>>" in explained
    broken = tmp_path / "config" / "tmuxagent" / "profiles"
    broken.mkdir(parents=True)
    (broken / "oops.toml").write_text("name = [\n")
    bad = cli("status", "py", env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert bad.returncode == 2 and "oops.toml" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_profiles_are_kept_in_a_cache_while_no_file_changes(tmp_path: Path) -> None:
    import os

    (tmp_path / "one.toml").write_text(
        'name = "one"\n[[rule]]\nstate = "ready"\nmatch = "^one$"\nregion = "screen"\n'
    )
    first = _profiles.load([str(tmp_path)])
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "tmuxagent" / "profiles.json"
    assert cache.stat().st_mode & 0o777 == 0o600
    assert oct(cache.parent.stat().st_mode & 0o777) == "0o700"
    _profiles._loaded.clear()  # as a new process would
    assert [p.name for p in _profiles.load([str(tmp_path)])] == [p.name for p in first]
    (tmp_path / "one.toml").write_text(  # changed: read afresh, and checked
        'name = "one"\n[[rule]]\nstate = "ready"\nmatch = "(one"\nregion = "screen"\n'
    )
    _profiles._loaded.clear()
    with pytest.raises(UsageError, match="bad regular expression"):
        _profiles.load([str(tmp_path)])


def test_events_as_they_happen(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    import os
    import select
    import subprocess

    py = ta.start("py", ["python3", "-q"])
    py.wait_state("ready", timeout=10)
    seen = tmp_path / "seen"
    run = f'cat >> {seen}; echo "$TMUXAGENT_STATE" >> {seen}'
    command = [sys.executable, "-m", "tmuxagent", "-S", str(ta.socket_path), "events",
               "--timeout", "60", "--exec", run]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=os.environ) as watcher:
        assert watcher.stdout is not None

        def until(event: str, **fields: object) -> dict[str, object]:
            while True:
                ready = select.select([watcher.stdout], [], [], 15)[0]
                assert ready, f"no {event} event"
                line = watcher.stdout.readline()  # type: ignore[union-attr]
                got = json.loads(line)
                if got["event"] == event and all(got.get(k) == v for k, v in fields.items()):
                    return got

        first = until("state", session="py")  # its state as the watching starts
        assert (first["state"], first["previous"]) == ("ready", None)
        py.send('input("Sure? [y/N] ")', enter=True)
        asked = until("state", session="py", state="asking")
        assert asked["detail"] == "Sure? [y/N]" and asked["profile"] == "questions"
        ta.start("late", ["sleep", "30"])
        assert until("started", session="late")["command"] == "sleep 30"
        py.send("y", enter=True)
        py.send("exit(3)", enter=True)
        assert until("exited", session="py")["exit_status"] == 3
        ta.session("late").kill()
        until("gone", session="late")
        watcher.kill()
    lines = seen.read_text().splitlines()  # each event: its JSON, then $TMUXAGENT_STATE
    pairs = [(json.loads(a), b) for a, b in zip(lines[::2], lines[1::2], strict=True)]
    assert any(event.get("state") == state == "asking" for event, state in pairs), pairs


def test_a_cache_another_user_could_write_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    (tmp_path / "one.toml").write_text('name = "one"\n')
    st = (tmp_path / "one.toml").stat()
    stamps = [[str(tmp_path / "one.toml"), st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns]]
    planted = tmp_path / "planted-cache"
    (planted / "tmuxagent").mkdir(parents=True)
    (planted / "tmuxagent" / "profiles.json").write_text(
        json.dumps({"files": stamps, "contents": [{"name": "evil"}]})
    )
    os.chmod(planted / "tmuxagent", 0o777)  # others may write there
    monkeypatch.setenv("XDG_CACHE_HOME", str(planted))
    monkeypatch.setattr(_profiles, "_loaded", {})
    assert [p.name for p in _profiles.load([str(tmp_path)])] == ["one"]
    os.chmod(planted / "tmuxagent", 0o700)  # the user's own: read
    _profiles._loaded.clear()
    assert [p.name for p in _profiles.load([str(tmp_path)])] == ["evil"]


def test_debuggers_and_other_repls_are_ready_at_their_prompts(
    ta: tmuxagent.Server, tmp_path: Path
) -> None:
    script = tmp_path / "buggy.py"
    script.write_text("total = 1\nprint(total)\n")
    pdb = ta.start("pdb", ["python3", "-m", "pdb", str(script)], cwd=str(tmp_path))
    assert pdb.wait_state("ready", timeout=15).detail == "prompt (Pdb)"
    pdb.send("n", enter=True)  # a step: it stays a debugger at its prompt
    assert pdb.wait_state("ready", timeout=15).detail == "prompt (Pdb)"


@needs("gdb")
def test_gdb_is_ready_at_its_prompt(ta: tmuxagent.Server) -> None:
    gdb = ta.start("gdb", ["gdb", "-q", "-nx"])
    assert gdb.wait_state("ready", timeout=15).detail == "prompt (gdb)"


@needs("node")
def test_node_is_ready_at_its_prompt(ta: tmuxagent.Server) -> None:
    node = ta.start("node", ["node"])
    assert node.wait_state("ready", timeout=15).detail == "prompt >"


def test_a_menu_and_a_progress_bar(ta: tmuxagent.Server) -> None:
    pick = "printf 'Pick one:\\n> one\\n  two\\n(Use arrow keys)'; read -s -n1 a"
    menu = ta.start("menu", ["bash", "-c", pick])
    assert menu.wait_state("asking", timeout=10).detail == "menu: (Use arrow keys)"
    # A progress report (OSC 9;4) keeps it working while it waits on nothing
    # it shows; cleared, it is idle.
    copy = "printf 'copying\\033]9;4;1;40\\a'; read a; printf '\\033]9;4;0\\a'; read a"
    bar = ta.start("bar", ["bash", "-c", copy])
    state = bar.wait_state("working", timeout=10)
    assert (state.profile, state.detail) == ("progress", "progress bar (OSC 9;4)")
    bar.send("", enter=True)
    assert bar.wait_state("idle", timeout=10).profile == ""


def test_a_shell_tells_its_commands_questions_and_its_own_screen(
    ta: tmuxagent.Server, tmp_path: Path
) -> None:
    shell = ta.start("sh")
    shell.wait_state("ready", timeout=10)
    # A command that asks what no profile knows by its words, from the shell.
    shell.send("""python3 -c "input(\\"Username for 'https://example.com': \\")" """, enter=True)
    assert shell.wait_state("asking", timeout=10).detail == "Username for 'https://example.com':"
    shell.keys("C-c")
    shell.wait_state("ready", timeout=10)
    # A note on the screen that quotes an agent's dialog does not make a shell an agent.
    note = tmp_path / "note.txt"
    note.write_text(" Do you want to proceed?\n ❯ 1. Yes\n   2. No, and tell Claude what\n")  # noqa: RUF001
    shell.send(f"cat {note}", enter=True)
    assert shell.wait_state("ready", timeout=10).profile == "shell"
    shell.send("clear", enter=True)  # (while a command runs, the screen may tell what it is)
    shell.wait_state("ready", timeout=10)
    # A y/n question printed by a program that does not wait for the answer.
    shell.send("echo y | { printf 'Delete 3 old backups? [y/N] '; read a; sleep 30; }", enter=True)
    assert shell.wait_state("working", timeout=10).profile == "shell"
    assert shell.state().state == "working"  # never asking: nothing waits for the answer


def test_events_see_a_restart_and_ctrl_c_ends_exec(ta: tmuxagent.Server, tmp_path: Path) -> None:
    import os
    import select
    import signal
    import subprocess

    ta.start("a", ["sleep", "300"])
    done = tmp_path / "done"
    command = [sys.executable, "-m", "tmuxagent", "-S", str(ta.socket_path), "events",
               "--exec", f"sleep 30; touch {done}"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as watcher:
        assert watcher.stdout is not None

        def event() -> dict[str, object]:
            assert select.select([watcher.stdout], [], [], 15)[0], "no event"
            return json.loads(watcher.stdout.readline())  # type: ignore[union-attr]

        assert event()["event"] == "state"  # a's state as the watching starts
        ta.session("a").kill()
        ta.start("a", ["sleep", "300"])  # another of the name, within the second
        kinds = [event()["event"] for _ in range(3)]
        assert kinds[:2] == ["gone", "started"], kinds
        watcher.send_signal(signal.SIGINT)  # its --exec command is running: ended, not waited for
        assert watcher.wait(timeout=10) == 130
    assert not done.exists()
    # Its whole command ended (the sleep too), not only the shell.
    marker = f"sleep 30; touch {done}"
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p).endswith(marker)]
    leftover = subprocess.run(["pgrep", "-x", "-f", "sleep 30"], capture_output=True, check=False)
    assert leftover.stdout == b"", leftover.stdout


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def test_tracker_takes_a_session_started_again_under_its_name_as_new(
    ta: tmuxagent.Server,
) -> None:
    tracker = tmuxagent.StateTracker(ta)
    ta.start("q", [sys.executable, "-c", 'input("Sure? [y/N] ")'])
    ta.session("q").wait_state("asking", timeout=10)
    assert tracker.update(ta.sessions())["q"] == (None, tracker.states["q"])
    ta.session("q").kill()
    ta.start("q", [sys.executable, "-c", 'input("Sure? [y/N] ")'])
    ta.session("q").wait_state("asking", timeout=10)
    was, now = tracker.update(ta.sessions())["q"]
    assert was is None and now.state == "asking"  # not 'asking, as before'
