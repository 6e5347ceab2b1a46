"""The log at its edges: a reader that stops early, a writer that dies, a
full disk, a size limit. Nothing is lost without saying so."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, wait_until

TICKER = [
    sys.executable,
    "-c",
    "import itertools, time\n"
    "for i in itertools.count():\n"
    "    print('tick', i, flush=True)\n"
    "    time.sleep(0.02)\n",
]


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)$", text, re.MULTILINE)]


def ticks(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^tick (\d+)$", text, re.MULTILINE)]


def writer_pids(session: tmuxagent.Session) -> list[int]:
    """The processes appending to the session's log (their stdout is the log)."""
    log = str(session.log_path)
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.readlink(f"/proc/{entry}/fd/1") == log:
                found.append(int(entry))
        except OSError:
            continue
    return found


def shell_pipe(cli: CLI, pipeline: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``tmuxagent ARGS`` with its stdout handled by a shell snippet (``"$@"`` runs it)."""
    command = [sys.executable, "-m", "tmuxagent", "-S", str(cli.socket), *args]
    return subprocess.run(
        ["sh", "-c", pipeline, "sh", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# -- read: the cursor moves past what was delivered, no further -----------------


def test_read_into_a_reader_that_stops_early(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("seq", ["seq", "1", "50000"]).wait_exit()
    head = shell_pipe(cli, '"$@" | head -3', "read", "seq")
    assert head.stdout == "1\n2\n3\n" and head.stderr == ""
    # head quit early: what it took and threw away cannot be known, so it all comes again.
    assert numbers(cli.ok("read", "seq")) == list(range(1, 50001))


def test_read_into_a_closed_stdout(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("seq", ["seq", "1", "20"]).wait_exit()
    closed = shell_pipe(cli, '"$@" >&-', "read", "seq")
    assert closed.returncode == 2
    assert closed.stderr.count("\n") == 1 and "standard output is closed" in closed.stderr
    assert numbers(cli.ok("read", "seq")) == list(range(1, 21))


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB filesystem of the test's own (tmpfs; needs root)."""
    mount = tmp_path / "disk"
    mount.mkdir(mode=0o700)
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` up; returns the file to delete to free it again."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_read_onto_a_full_disk(ta: tmuxagent.Server, cli: CLI, tiny_disk: Path) -> None:
    ta.start("seq", ["seq", "1", "200000"]).wait_exit()  # 1.2 MB: more than the disk holds
    out = tiny_disk / "out.txt"
    proc = shell_pipe(cli, f'"$@" > {out}', "read", "seq", "--max-chars", "10000000")
    assert proc.returncode == 4 and proc.stderr.count("\n") == 1
    assert "No space left on device" in proc.stderr
    got = numbers(out.read_text().rsplit("\n", 1)[0])  # a last line may be cut
    out.unlink()
    rest = numbers(cli.ok("read", "seq", "--max-chars", "10000000"))
    assert got and rest[-1] == 200000 and rest[0] <= got[-1] + 1


# -- the writer: killed, or a full disk -------------------------------------------


def test_a_killed_log_writer_is_marked_and_replaced(ta: tmuxagent.Server, cli: CLI) -> None:
    session = ta.start("tick", TICKER)
    session.wait_text("^tick 5$")
    before = session.read()
    (pid,) = writer_pids(session)
    os.kill(pid, signal.SIGKILL)
    start = ticks(before)[-1]
    wait_until(lambda: ticks(session.capture().text)[-1] > start + 10, what="more ticks")
    after = session.read()  # notices, marks the gap, starts a new writer
    assert "[tmuxagent: output may be missing here: the log's writer had stopped]" in after
    assert len(writer_pids(session)) == 1
    session.wait_text(r"^tick \d+$")
    later = after + session.read()
    seen = ticks(later[later.index("[tmuxagent:") :])
    assert seen[0] > start and seen == list(range(seen[0], seen[0] + len(seen)))


def test_a_full_disk_is_marked_in_the_log(tiny_disk: Path) -> None:
    server = tmuxagent.Server(tiny_disk / "tmux")
    try:
        session = server.start("tick", TICKER)
        session.wait_text("^tick 3$")
        filler = fill(tiny_disk)
        wait_until(lambda: session.files.log_state().unrecorded > 0, what="output not recorded")
        assert "not recorded" not in session.transcript()
        filler.unlink()
        wait_until(lambda: "not recorded" in session.transcript(), what="the log to go on")
        session.wait_text("^tick")  # more after the note
        text = session.transcript()
        found = re.search(r"\[tmuxagent: (\d+) bytes of output were not recorded here: "
                          r"No space left on device\]", text)  # fmt: skip
        assert found and int(found.group(1)) > 0, text[-300:]
        seen = ticks(text[found.end() :])
        assert seen == list(range(seen[0], seen[0] + len(seen)))
    finally:
        server.kill_all()


def test_start_on_a_full_disk(cli: CLI, tiny_disk: Path) -> None:
    socket = tiny_disk / "tmux"
    agent = CLI(socket)
    agent.ok("start", "first", "--", "sleep", "30")
    try:
        filler = fill(tiny_disk)
        proc = agent("start", "second", "--", "sleep", "30")
        assert proc.returncode == 4 and proc.stderr.count("\n") == 1, proc.stderr
        assert "No space left on device" in proc.stderr
        state = Path(str(socket) + ".tmuxagent")
        assert len(os.listdir(state)) == 1  # the first session's, nothing half made
        assert not [p for p in tiny_disk.rglob("*") if p.name.endswith(".tmp")]
        fill(tiny_disk)  # what the failed start freed
        # The input's mark is rewritten in place: a program that filled the
        # disk can still be typed to and stopped (it was exit 4 for any input).
        agent.ok("send", "first", "x")
        agent.ok("keys", "first", "C-c")
        assert "signal 2" in agent.ok("wait", "first", "--exit", "--timeout", "10")
        filler.unlink()
    finally:
        agent("kill", "--all")


# -- the size limit -----------------------------------------------------------------


def test_the_log_keeps_its_limit(ta: tmuxagent.Server, cli: CLI) -> None:
    cli.ok("start", "big", "--log-limit", "256K", "--", "seq", "1", "300000")  # 2 MB
    session = ta.session("big")
    session.wait_exit()
    log = session.log_path.stat()
    assert log.st_size > 2_000_000  # offsets stay as they were
    assert log.st_blocks * 512 <= 256 * 1024 + 64 * 1024  # the rest is a hole
    text = cli.ok("read", "big", "--max-chars", "10000000")
    note = re.match(r"\[tmuxagent: (\d+) bytes of older output were dropped here: the log keeps "
                    r"the last 256 KiB \(start --log-limit\)\]\n", text)  # fmt: skip
    assert note and int(note.group(1)) > 1_500_000
    kept = numbers(text[note.end() :])
    assert kept[-1] == 300000 and kept == list(range(kept[0], 300001))
    assert session.transcript(max_chars=10_000_000).startswith("[tmuxagent: ")


@pytest.mark.parametrize("limit", ["1", "12Q", "-5", "1.5M", "9" * 30, ""])
def test_log_limit_refused(cli: CLI, limit: str) -> None:
    proc = cli("start", "x", "--log-limit", limit, "--", "true")
    expected = "invalid log limit" if limit else "--log-limit needs a SIZE"
    assert proc.returncode == 2 and expected in proc.stderr


def test_log_limit_from_the_environment(ta: tmuxagent.Server, cli: CLI) -> None:
    cli.ok("start", "env", "--", "sleep", "30", env={"TMUXAGENT_LOG_LIMIT": "1M"})
    assert ta.session("env").files.meta()["log_limit"] == 1 << 20
    cli.ok("start", "none", "--log-limit", "0", "--", "sleep", "30")
    assert ta.session("none").files.meta()["log_limit"] == 0


def test_a_long_read_renders_as_one(ta: tmuxagent.Server, cli: CLI) -> None:
    """Pieces (for delivery) never change the text: redraws across them included."""
    code = (
        "import sys\n"
        "print('start')\n"
        "for i in range(3000):\n"
        "    sys.stdout.write(f'a {i}\\nb {i}\\nc {i}\\n' + ('\\x1b[3A' if i < 2999 else ''))\n"
        "for i in range(20000):\n"
        "    sys.stdout.write(f'\\rprogress {i}')\n"
        "print()\n"
        "print('done')\n"
    )
    session = ta.start("redraw", [sys.executable, "-c", code])
    session.wait_exit()
    assert len(session.files.read_log(0)) > 300_000  # more than one piece
    text = cli.ok("read", "redraw", "--max-chars", "10000000")
    assert text == session.transcript(max_chars=10_000_000)
    assert text.split("\n") == ["start", "a 2999", "b 2999", "c 2999", "progress 19999", "done", ""]


def test_no_silent_gaps_while_the_log_drops_output(ta: tmuxagent.Server) -> None:
    code = "import itertools\nfor i in itertools.count():\n    print('%09d' % i)\n"
    session = ta.start("fast", [sys.executable, "-c", code], log_limit="64K")
    got = ""
    for _ in range(10):  # each time far behind, and sometimes racing the writer
        size = session.files.log_size()
        wait_until(lambda: session.files.log_size() > size + 150_000, what="more output")  # noqa: B023
        got += session.read() + session.read()
    session.kill()
    assert "older output were dropped" in got, "the log never dropped anything"
    last, noted = None, False
    lines = got.split("\n")
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        if line.startswith("[tmuxagent: "):
            noted = True
        elif len(line) == 9 and line.isdigit():
            number = int(line)
            assert last is None or number == last + 1 or noted, f"{last} -> {number}, no note"
            last, noted = number, False
        else:  # the start of a line whose rest was dropped, or the last one's
            assert line.isdigit() or not line, f"a line that was never written: {line!r}"
            assert after.startswith("[tmuxagent: ") or not after, (line, after)


def test_a_writer_killed_before_the_program_ends(ta: tmuxagent.Server, tmp_path: Path) -> None:
    """No later call re-attaches a writer for a dead pane: the launcher says
    in the log that the program's last output may be missing."""
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    script = f"echo ready; read x < {fifo}; echo IMPORTANT; exit 3"
    session = ta.start("fin", ["sh", "-c", script])
    session.wait_text("^ready$")
    (pid,) = writer_pids(session)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not writer_pids(session), what="the writer gone")
    fifo.write_text("x\n")  # and no tmuxagent call until the pane is dead

    def dead() -> bool:
        return ta.host.tmux(["display", "-p", "-t", "=fin:", "#{pane_dead}"]) == "1\n"

    wait_until(dead, what="the program to end")
    assert "IMPORTANT" in session.capture().text
    text = session.transcript()
    assert "IMPORTANT" not in text
    assert "[tmuxagent: output may be missing here: the log's writer had stopped]" in text
    assert session.wait_exit() == 3


def test_a_wait_on_endless_output_stays_small(ta: tmuxagent.Server, cli: CLI) -> None:
    ta.start("yes", ["yes"])
    command = [sys.executable, "-m", "tmuxagent", "-S", str(cli.socket), "wait", "yes",
               "--text", "NEVER", "--timeout", "4"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 1  # timed out, as asked
    assert ta.session("yes").files.log_size() > 5_000_000  # it had plenty to hold
    assert usage.ru_maxrss < 120 * 1024, f"{usage.ru_maxrss // 1024} MiB"


def test_run_output_is_cut_like_read(ta: tmuxagent.Server, shell: tmuxagent.Session) -> None:
    result = shell.run("seq 1 200000", timeout=120)
    lines = result.output.split("\n")
    assert lines[:3] == ["1", "2", "3"] and lines[-1] == "200000"
    assert len(lines) < 100_000
    note = next(line for line in lines if line.startswith("[... tmuxagent: "))
    assert "output left out here; the full log is" in note
    kept = [int(line) for line in lines if line.isdigit()]
    assert kept == sorted(kept) and len(set(kept)) == len(kept)  # nothing twice
    assert result.exit_code == 0
