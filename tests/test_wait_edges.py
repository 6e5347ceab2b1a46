"""Waits at the edges (issue 9, items 6-9): the echo is recognised by where it
is drawn, successive waits walk forward, a half-written line is not a match,
and a wait returns by its timeout whatever the pattern."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, ROOT, wait_until

# -- item 6: the echo, by position -------------------------------------------------


def test_short_output_after_a_pasted_block_is_not_taken_for_echo(ta: tmuxagent.Server) -> None:
    """Lines of four characters or fewer were taken for the echo of the block's
    blank lines: '42' was never seen."""
    py = ta.start("py", ["python3", "-q"], env={"PYTHON_BASIC_REPL": "1"})
    py.wait_text(">>> $")
    py.paste("if 1:\n    print(6*7)\n\n", enter=True)
    assert py.wait_text("^42$", timeout=10).group() == "42"


def test_output_of_a_program_that_does_not_echo_is_seen(ta: tmuxagent.Server) -> None:
    """getpass shows nothing of what is typed: a line the program prints that
    holds the typed text is output, not echo."""
    code = "import getpass\ns = getpass.getpass('Password: ')\nprint('you typed: ' + s)\n"
    session = ta.start("pw", [sys.executable, "-c", code])
    session.wait_text("Password: $")
    session.send("hunter2", enter=True)
    match = session.wait_text("you typed.*", timeout=10)
    assert match.group() == "you typed: hunter2"


#: Draws like an Ink app: the whole frame again after every change (erase the
#: lines up, redraw), a box with the input in it, the cursor below the frame.
#: On Enter it thinks for a while with the text still in the box, then writes
#: its answer above the frame (Ink's <Static>) and empties the box.
INK_LIKE = r"""
import os, sys, time, tty
tty.setraw(0)
drawn = 0
def frame(text, status):
    global drawn
    out = "\x1b[2K\x1b[1A" * drawn + "\x1b[2K\x1b[G" if drawn else ""
    inner = ("> " + text + "\x1b[7m \x1b[27m").ljust(44)
    lines = ["\u256d" + "\u2500" * 40 + "\u256e", "\u2502 " + inner + "\u2502",
             "\u2570" + "\u2500" * 40 + "\u256f", status]
    os.write(1, (out + "\r\n".join(lines) + "\r\n").encode())
    drawn = len(lines)
def static(line):
    global drawn
    os.write(1, ("\x1b[2K\x1b[1A" * drawn + "\x1b[2K\x1b[G" + line + "\r\n").encode())
    drawn = 0
text = ""
frame(text, "? for shortcuts")
while True:
    data = os.read(0, 1024).decode()
    if "\x03" in data:
        break
    for ch in data:
        if ch == "\r":
            frame(text, "thinking...")
            time.sleep(0.4)
            static("you said: " + text)
            text = ""
            frame(text, "? for shortcuts")
        else:
            text += ch
            frame(text, "? for shortcuts")
"""


def test_the_input_box_of_a_full_screen_program_is_echo(ta: tmuxagent.Server) -> None:
    """The typed text in the program's input box never satisfies a wait; the
    same text in a line the program writes does."""
    tui = ta.start("ink", [sys.executable, "-c", INK_LIKE], size="60x20")
    tui.wait_text("shortcuts")
    tui.send("hello there", enter=True)
    match = tui.wait_text("hello there", timeout=10)
    line = match.string[match.string.rfind("\n", 0, match.start()) + 1 :].split("\n")[0]
    assert line == "you said: hello there"


# -- item 7: successive waits walk forward ------------------------------------------


def test_successive_waits_walk_forward(ta: tmuxagent.Server, cli: CLI) -> None:
    """Like pexpect's expect: each wait starts where the previous match ended,
    across CLI calls too."""
    script = "echo HELLO one; echo HELLO two; echo 'HELLO three HELLO four'; exec sleep 30"
    session = ta.start("dev", ["sh", "-c", script])
    assert session.wait_text(r"HELLO (\w+)").group(1) == "one"
    assert cli.ok("wait", "dev", "--text", r"HELLO \w+") == "HELLO two\n"
    assert session.wait_text(r"HELLO (\w+)").group(1) == "three"
    assert session.wait_text(r"HELLO (\w+)").group(1) == "four"
    with pytest.raises(tmuxagent.WaitTimeout):
        session.wait_text("HELLO", timeout=0.3)
    assert cli("wait", "dev", "--text", "HELLO", "--timeout", "0.3").returncode == 1


def test_new_input_starts_the_waits_afresh(repl: tmuxagent.Session) -> None:
    repl.send("echo HELLO", enter=True)
    repl.wait_text("^HELLO$")
    with pytest.raises(tmuxagent.WaitTimeout):
        repl.wait_text("^HELLO$", timeout=0.3)
    repl.wait_text("fake> $")  # the prompt came after the match
    repl.send("echo HELLO", enter=True)
    repl.wait_text("^HELLO$")


def test_an_empty_match_where_all_is_echo(repl: tmuxagent.Session) -> None:
    repl.send("abc")  # no Enter: all there is after it is its echo
    assert repl.wait_text("z*", timeout=5).group() == ""
    assert repl.wait_text("z*", timeout=5).group() == ""


def test_a_wait_sees_what_a_full_screen_program_drew_below_the_last_match(
    ta: tmuxagent.Server,
) -> None:
    """On a full screen, 'after the match' is in reading order: a footer that
    was drawn before the match, below it, is still ahead."""
    draw = r"printf '\033[?1049h\033[10;1Hfooter Quit\033[1;1H'"
    script = f"{draw}; sleep 0.3; printf ready; exec sleep 30"
    session = ta.start("full", ["sh", "-c", script])
    session.wait_text("ready")
    session.wait_text("Quit", timeout=5)
    with pytest.raises(tmuxagent.WaitTimeout):
        session.wait_text("ready", timeout=0.3)


def test_run_and_wait_prompt_end_at_the_prompt(shell: tmuxagent.Session, cli: CLI) -> None:
    """run and wait --prompt report the command typed last, whatever a text
    wait matched; a text wait after them starts at the prompt."""
    assert shell.run("echo FIRST").output == "FIRST"
    with pytest.raises(tmuxagent.WaitTimeout):
        shell.wait_text("FIRST", timeout=0.3)
    shell.send("echo A; sleep 0.3; echo B", enter=True)
    shell.wait_text("^A$")
    assert shell.wait_prompt().output == "A\nB"
    assert shell.wait_prompt().output == "A\nB"  # the same command's result, again
    assert cli.ok("wait", "sh", "--prompt") == "A\nB\n"
    with pytest.raises(tmuxagent.WaitTimeout):
        shell.wait_text("^B$", timeout=0.3)


# -- item 8: a half-written line ------------------------------------------------------

#: Writes a number one digit at a time (5 ms apart), as a slow program would.
SLOW_DIGITS = (
    "import sys, time\n"
    "input()\n"
    "for ch in '2432902008176640000':\n"
    "    sys.stdout.write(ch); sys.stdout.flush(); time.sleep(0.005)\n"
    "print(flush=True)\n"
    "time.sleep(30)\n"
)


def test_a_half_written_line_is_not_a_match(ta: tmuxagent.Server) -> None:
    session = ta.start("slow", [sys.executable, "-c", SLOW_DIGITS])
    session.send("", enter=True)
    assert session.wait_text(r"^\d+$", timeout=10).group() == "2432902008176640000"


def test_an_unfinished_last_line_matches_once_the_output_stops(ta: tmuxagent.Server) -> None:
    prompt = ta.start("prompt", ["sh", "-c", "printf 'name? '; read x; printf 'result: 42'"])
    prompt.wait_text(r"\? $")
    prompt.send("x", enter=True)
    assert prompt.wait_text(r"result: \d+$").group() == "result: 42"


def test_a_prompt_that_fills_its_row_is_seen_whole(ta: tmuxagent.Server) -> None:
    """A prompt whose last space is on the row's last cell: the cursor stays
    on that cell (pending wrap), and the space was cut off with the blanks
    after the cursor, so '> $' never matched."""
    code = "printf '%*s> ' 78 ''; read x; printf 'got %s' \"$x\""
    session = ta.start("full", ["sh", "-c", code], size=(80, 24))
    assert session.wait_text("> $", timeout=10).group() == "> "
    session.send("x", enter=True)
    assert session.wait_text("got x$", timeout=10).group() == "got x"


# -- item 9: a wait returns by its timeout --------------------------------------------

AAA = ["sh", "-c", "printf '%s!\\n' aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; exec sleep 60"]


def test_a_catastrophic_pattern_ends_by_the_timeout(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("aaa", AAA)
    wait_until(lambda: "a!" in session.capture().text, what="the a's")  # not a wait: it consumes
    proc = cli("wait", "aaa", "--text", "^(a+)+$", "--timeout", "2", timeout=40)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "backtracks catastrophically" in proc.stderr


#: A wait from a thread other than the main one (as the dashboard's workers
#: and spawn run them): no signal can stop a search there.
IN_A_THREAD = """
import sys, threading
import tmuxagent
session = tmuxagent.Server(sys.argv[1]).session("aaa")
out = []
def wait():
    try:
        session.wait_text("^(a+)+$", timeout=1)
        out.append("matched")
    except tmuxagent.TmuxAgentError as exc:
        out.append(f"{type(exc).__name__} {exc}")
thread = threading.Thread(target=wait)
thread.start()
thread.join()
print(out[0])
"""


def test_a_catastrophic_pattern_ends_by_the_timeout_in_a_thread(ta: tmuxagent.Server) -> None:
    session = ta.start("aaa", AAA)
    wait_until(lambda: "a!" in session.capture().text, what="the a's")  # not a wait: it consumes
    proc = subprocess.run(
        [sys.executable, "-c", IN_A_THREAD, str(ta.socket_path)],
        capture_output=True, text=True, timeout=40, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("UsageError ")
    assert "backtracks catastrophically" in proc.stdout


@pytest.mark.parametrize(
    "pattern", ["a{4294967296}", "(" * 1000 + "a" + ")" * 1000], ids=["overflow", "nested"]
)
def test_a_pattern_python_cannot_compile_is_bad_usage(
    ta: tmuxagent.Server, cli: CLI, pattern: str
) -> None:
    ta.start("p", ["sleep", "30"])
    proc = cli("wait", "p", "--text", pattern, "--timeout", "1")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "regex" in proc.stderr
    with pytest.raises(tmuxagent.UsageError):
        ta.session("p").wait_text(pattern, timeout=1)


def test_a_line_written_between_timer_sleeps_is_not_taken_half(ta: tmuxagent.Server) -> None:
    """A program asleep in select() on a timer is not waiting for input: its
    unfinished line is not final (it was taken at once, half written)."""
    code = (
        "import select, sys\n"
        "sys.stdin.readline()\n"
        "for part in ['24', '32', '90', '20', '08', '17', '66', '40', '000']:\n"
        "    sys.stdout.write(part); sys.stdout.flush()\n"
        "    select.select([], [], [], 0.03)\n"
        "print(); select.select([], [], [], 30)\n"
    )
    session = ta.start("timer", [sys.executable, "-c", code])
    session.send("go", enter=True)
    assert session.wait_text(r"^\d+$").group() == "2432902008176640000"


def test_the_search_helper_dies_with_its_caller(tmp_path: Path, ta: tmuxagent.Server) -> None:
    """A wait from another thread searches in a helper process: it must not
    outlive a caller that exits mid-search."""
    session = ta.start("aaa", ["sh", "-c", "printf '%s!'; sleep 60" % ("a" * 34)])
    session.wait_text("!")
    script = tmp_path / "caller.py"
    script.write_text(
        "import sys, threading, time, tmuxagent\n"
        "s = tmuxagent.Server(sys.argv[1]).session('aaa')\n"
        "wait = lambda: s.wait_text(r'^(a+)+$', timeout=60)\n"
        "threading.Thread(target=wait, daemon=True).start()\n"
        "time.sleep(1)\n"  # the helper is searching by then
    )
    subprocess.run([sys.executable, str(script), str(ta.socket_path)], check=True, timeout=30)

    def helpers() -> list[str]:
        found = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"import os, re, signal, sys" in f.read():
                        found.append(pid)
            except OSError:
                continue
        return found

    wait_until(lambda: not helpers(), timeout=5, what="the helper to end")


def test_a_line_typed_with_echo_off_is_the_programs_own(shell: tmuxagent.Session) -> None:
    """With echo off in line mode nothing typed shows: a line equal to the
    typed text is the program's (it was dropped as the echo)."""
    shell.send('stty -echo; read x; echo "$x"; stty echo', enter=True)
    shell.wait_idle(0.3)
    shell.send("mytext", enter=True)
    assert shell.wait_text("^mytext$", timeout=10).group() == "mytext"


def test_a_watch_keeps_only_the_last_rows_of_an_endless_line(tmp_path: Path) -> None:
    """A line that never ends: the watch keeps its last rows only (memory
    bounded). On a log of the program's bytes, as a wait reads it."""
    from tmuxagent._files import Mark, SessionFiles
    from tmuxagent._output import PARTIAL_ROWS, OutputWatch

    root = tmp_path / "session"
    root.mkdir(mode=0o700)
    (root / "output.log").write_bytes(b"x" * (120 * PARTIAL_ROWS * 5))  # 5x the rows kept
    with OutputWatch(SessionFiles(str(root)), Mark(0), 120, 40) as watch:
        while watch.poll():
            pass
        assert len(watch.term._partial) <= 2 * PARTIAL_ROWS
        assert watch.lines()[-1].endswith("x" * 1000)  # the line's end is all there
