"""Each trap in ../shared/TMUX-FACTS.md, and the test that shows tmuxagent avoids it.

Sending input
- trailing ';' eaten ............... test_input.py::test_send_is_literal, test_cli_send_tricky_text
- 16 KB command limit .............. test_input.py::test_send_over_tmux_command_limit
- 4095-byte canonical lines ........ test_long_line_warning (below)
- send-keys blocking for ever ...... test_every_tmux_call_has_a_timeout (below)
- Enter lost after text (TUIs) ..... test_input.py::test_enter_after_text_reaches_a_tui
- bracketed paste .................. test_input.py::test_paste_is_bracketed_when_asked
- key names vs. text ............... test_input.py::test_bad_key_sends_nothing, test_keys
- '!' history expansion ............ test_run.py::test_run_cli_json
Reading output
- wide characters, -J, -e .......... test_output.py::test_wide_characters_survive, *_ansi_*
- history-limit and the first pane . test_server.py::test_server_config
- trimmed scrollback ............... test_read_beyond_history_limit (below)
- pipe-pane and alt-screen bursts .. test_log_survives_alternate_screen_bursts (below)
- window-size latest ............... test_server.py::test_attach_from_a_terminal
- terminal queries ................. test_term.py::test_queries_and_strings_vanish
Knowing when something is done
- waits matching the echo .......... test_wait.py::test_wait_ignores_the_echo (+ wrapped, paste)
- prompt markers, PS2, pagers ...... test_run.py
- remain-on-exit, pane_dead race ... test_exit_status_of_many_fast_programs (below),
                                     test_output.py::test_dead_program_keeps_its_screen
- idle by screen, not bytes ........ test_wait.py::test_wait_idle*
Isolation and safety
- private socket, own config ....... conftest._isolated_default_socket, test_user_config_ignored
- names with '.' and ':' ........... test_server.py::test_odd_names
- deleted socket file .............. test_deleted_socket_is_recovered (below)
- new session missing from lists ... test_new_session_is_listed_at_once (below)
Building blocks
- gated start (log from byte 0) .... test_output.py::test_output_of_fast_exiting_program_is_complete
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import libtmux
import pytest

import tmuxagent
from tests.conftest import CLI, prog


def test_long_line_warning(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("cat", ["cat"])
    proc = cli("send", "cat", "x" * 5000)
    assert proc.returncode == 0
    assert "warning" in proc.stderr and "4095" in proc.stderr
    assert cli("send", "cat", "x" * 4000).stderr == ""


def test_every_tmux_call_has_a_timeout(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("frozen", ["sleep", "30"])
    server_pid = session._at.pane().server_pid
    os.kill(server_pid, signal.SIGSTOP)  # a hung server: no call may hang with it
    try:
        proc = cli("--tmux-timeout", "0.5", "send", "frozen", "x", timeout=20)
        assert proc.returncode == 4
        assert "did not answer within 0.5s" in proc.stderr
    finally:
        os.kill(server_pid, signal.SIGCONT)
    session.send("x")


def test_read_beyond_history_limit(shell: tmuxagent.Session) -> None:
    shell.read()
    shell.run("seq 1 120000", timeout=120)  # more than history-limit (50000)
    text = shell.read(max_chars=2_000_000)
    assert [ln for ln in text.split("\n") if ln.isdigit()] == [str(i) for i in range(1, 120001)]
    scrollback = shell.capture(history=True).lines
    assert "1" not in scrollback  # tmux itself lost the start


def test_log_survives_alternate_screen_bursts(ta: tmuxagent.Server) -> None:
    code = (
        "import sys\n"
        "for i in range(300):\n"
        "    sys.stdout.write('\\x1b[?1049h\\x1b[H\\x1b[2J' + ('frame %d\\n' % i) * 40"
        " + '\\x1b[?1049l')\n"
        "sys.stdout.write('AFTER-BURSTS\\n'); sys.stdout.flush()\n"
        "input()\n"
    )
    session = ta.start("bursty", ["python3", "-c", code])
    session.wait_text("^AFTER-BURSTS$", timeout=30)
    log = session.log_path.read_bytes()
    assert log.count(b"\x1b[?1049h") == 300
    assert log.endswith(b"AFTER-BURSTS\r\n")
    assert "AFTER-BURSTS" in session.capture().text


def test_exit_status_of_many_fast_programs(ta: tmuxagent.Server) -> None:
    # tmux 3.3a sometimes never records the status of a program that exits
    # (a lost SIGCHLD); one in ten of these used to stay unknown.
    sessions = [ta.start(f"fast{i}", prog("exit_with.py", str(i % 7), "0.1")) for i in range(20)]
    assert [s.wait_exit(timeout=10) for s in sessions] == [i % 7 for i in range(20)]


def test_user_config_ignored(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".tmux.conf").write_text("set -g history-limit 7\nset -g base-index 5\n")
    cli.ok("start", "cfg", "--", "sleep", "30", env={"HOME": str(home)})
    info = libtmux.Server(socket_path=str(ta.socket_path)).cmd(
        "display", "-p", "-t", "=cfg:", "#{history_limit} #{window_index}"
    )
    assert info.stdout == ["50000 0"]


def test_deleted_socket_is_recovered(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("keep", ["sleep", "30"])
    ta.socket_path.unlink()
    assert [i.name for i in ta.sessions()] == ["keep"]  # the server is found again
    assert ta.socket_path.exists()
    assert "keep" in cli.ok("list")
    # start, which would otherwise make a second server and orphan the first.
    ta.socket_path.unlink()
    ta.start("second", ["sleep", "30"])
    assert sorted(i.name for i in ta.sessions()) == ["keep", "second"]
    servers = {p.server_pid for p in ta._panes()}
    assert len(servers) == 1


def test_a_deleted_socket_is_looked_for_before_any_start(ta: tmuxagent.Server) -> None:
    """A server object that found no server (and does not look again for a
    while) still looks before it starts a session: another object started
    one, whose socket was then deleted."""
    other = tmuxagent.Server(ta.socket_path)
    ta.socket_path.unlink(missing_ok=True)
    assert ta.sessions() == []  # no server: none looked for again for a while
    other.start("first", ["sleep", "30"])
    ta.socket_path.unlink()
    ta.start("second", ["sleep", "30"])
    assert sorted(i.name for i in ta.sessions()) == ["first", "second"]
    assert len({p.server_pid for p in ta._panes()}) == 1


def test_new_session_is_listed_at_once(ta: tmuxagent.Server) -> None:
    for i in range(10):
        ta.start(f"n{i}", ["sleep", "30"])
        assert f"n{i}" in [s.name for s in ta.sessions()]


@pytest.mark.parametrize("text", ["a;", "x \\;", "Enter"])
def test_keys_and_text_do_not_mix(ta: tmuxagent.Server, text: str, tmp_path: Path) -> None:
    out = tmp_path / "raw.bin"
    session = ta.start("raw", prog("raw_reader.py", str(out)))
    session.wait_text("ready")
    session.send(text)
    session.keys("Enter")
    session.keys("C-]")
    session.wait_text("GOT")
    assert out.read_bytes() == text.encode() + b"\r"


def test_ctrl_c_during_a_tmux_call_is_ctrl_c() -> None:
    """A Ctrl-C at any moment of a tmux call (here: of a child's) comes out
    as KeyboardInterrupt, never as another error: a descriptor closed just
    before the Ctrl-C was closed again on the way out (EBADF, or another's
    descriptor), and a remote Ctrl-C printed 'Bad file descriptor'."""
    import os
    import random
    import signal
    import threading
    import time

    from tmuxagent._tmux import spawn

    done = threading.Event()

    def ctrl_c(signum: int, frame: object) -> None:
        if not done.is_set():  # (one sent as the test ends is not the test's)
            raise KeyboardInterrupt

    def ctrl_c_now_and_then() -> None:
        while not done.wait(random.uniform(0.0005, 0.004)):
            os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, ctrl_c)
    pester = threading.Thread(target=ctrl_c_now_and_then, daemon=True)
    pester.start()
    other: list[BaseException] = []
    interrupted = 0
    deadline = time.monotonic() + 3
    try:
        while time.monotonic() < deadline:
            try:
                spawn(["sh", "-c", "echo x"], env=dict(os.environ), timeout=5)
            except KeyboardInterrupt:
                interrupted += 1
            except Exception as exc:
                other.append(exc)
    finally:
        done.set()
        pester.join()
        signal.signal(signal.SIGINT, previous)
    assert interrupted > 100 and other == [], other[:3]
