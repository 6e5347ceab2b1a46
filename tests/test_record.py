"""The output stream: recordings with timing, asciicast export; resizes, late readers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, wait_until

ASCIINEMA = shutil.which("asciinema") or str(Path(sys.executable).parent / "asciinema")


def read_cast(path: Path) -> tuple[dict, list[list]]:
    lines = path.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_record_from_start(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    script = "echo one; sleep 0.4; echo 'ünï two'; sleep 0.2; echo three; sleep 30"
    cli.ok("start", "rec", "--record", "--", "sh", "-c", script)
    cli.ok("wait", "rec", "--text", "three")
    assert json.loads(cli.ok("status", "rec", "--json"))["recording"] is True
    cast = tmp_path / "rec.cast"
    assert "wrote 3 events" in cli.ok("record", "rec", "--cast", str(cast))
    header, events = read_cast(cast)
    assert header["version"] == 2 and (header["width"], header["height"]) == (120, 40)
    assert [e[2] for e in events] == ["one\r\n", "ünï two\r\n", "three\r\n"]
    times = [e[0] for e in events]
    assert times == sorted(times)
    assert times[1] - times[0] > 0.3  # the pause is in the recording
    played = subprocess.run(
        [ASCIINEMA, "cat", str(cast)], capture_output=True, text=True, check=True
    )
    assert played.stdout.replace("\r\n", "\n") == "one\nünï two\nthree\n"


def test_record_mid_session_and_play(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    py = ta.start("py", ["python3", "-q"], env={"PYTHON_BASIC_REPL": "1"})
    py.wait_text(">>> $")
    py.send("print('before')", enter=True)
    py.wait_text("^before$")
    cli.ok("record", "py")
    py.send("print('after')", enter=True)
    py.wait_text("^after$")
    cli.ok("record", "py", "--stop")
    py.send("print('not recorded')", enter=True)
    py.wait_text("^not recorded$")
    cast = tmp_path / "py.cast"
    cli.ok("record", "py", "--cast", str(cast))
    _, events = read_cast(cast)
    assert "before" in events[0][2]  # the screen when recording began
    text = "".join(e[2] for e in events[1:])
    assert "after" in text and "not recorded" not in text
    assert cli.ok("record", "py", "--cast", "-").startswith('{"version": 2')
    # asciinema plays it (in a terminal: a tmux pane).
    player = ta.start("player", [ASCIINEMA, "play", "-i", "0.1", str(cast)])
    player.wait_text("^after$", timeout=20)
    assert player.wait_exit(timeout=20) == 0


def test_record_errors(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    ta.start("plain", ["sleep", "30"])
    assert cli("record", "ghost").returncode == 3
    cli.ok("record", "plain")
    proc = cli("record", "plain", "--cast", str(tmp_path / "no" / "dir.cast"))
    assert proc.returncode == 2


def test_cast_of_an_unrecorded_session(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    """Every session can be replayed after the fact, with its pauses."""
    script = "echo one; sleep 0.4; echo two"
    cli.ok("start", "late", "--size", "90x20", "--", "sh", "-c", script)
    cli.ok("wait", "late", "--exit")
    cast = tmp_path / "late.cast"
    said = cli.ok("record", "late", "--cast", str(cast))
    assert "wrote 2 events" in said and "not recorded" in said
    header, events = read_cast(cast)
    assert (header["width"], header["height"]) == (90, 20)
    assert [e[2] for e in events] == ["one\r\n", "two\r\n"]
    assert events[1][0] - events[0][0] > 0.3
    assert "6973" not in cast.read_text()  # no trace of the launcher's end sentinel
    proc = cli("record", "late", "--cast", "-")
    assert proc.returncode == 0 and "not recorded" in proc.stderr
    assert proc.stdout.startswith('{"version": 2')


def test_log_writer_ends_with_the_session(ta: tmuxagent.Server) -> None:
    session = ta.start("brief", ["sleep", "30"], record=True)
    root = session.files.root

    def writers() -> list[str]:
        found = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if root.encode() in f.read():
                        found.append(pid)
            except OSError:
                continue
        return found

    wait_until(writers, what="the log's writer")
    session.kill()
    wait_until(lambda: not writers(), what="the writer to end")


def test_stream_survives_resizes(ta: tmuxagent.Server) -> None:
    code = (
        "import sys, time\n"
        "for i in range(200):\n"
        "    print(f'line {i}', flush=True)\n"
        "    time.sleep(0.002)\n"
        "print('END', flush=True); input()\n"
    )
    session = ta.start("resized", ["python3", "-c", code])
    for cols, rows in ((60, 20), (150, 50), (80, 24), (120, 40)):
        session.resize(cols, rows)
    session.wait_text("^END$")
    lines = [ln for ln in session.read().split("\n") if ln.startswith("line")]
    assert lines == [f"line {i}" for i in range(200)]


def test_late_reader_sees_everything_once(ta: tmuxagent.Server) -> None:
    session = ta.start("early", ["sh", "-c", "seq 1 3000; exec sleep 300"])
    session.wait_text("^3000$")
    # The reader comes after the program is gone: nothing missing, nothing twice.
    first = tmuxagent.Server(ta.socket_path).session("early").read()
    assert session.read() == ""
    assert [ln for ln in first.split("\n") if ln] == [str(i) for i in range(1, 3001)]


@pytest.mark.parametrize("chunk", [1, 3, 4096])
def test_read_while_writing(ta: tmuxagent.Server, chunk: int) -> None:
    """Reads interleaved with output: no gaps, no duplicates, whatever the timing."""
    code = (
        "import sys, time\n"
        f"data = ''.join(f'{{i}}\\n' for i in range(2000)).encode()\n"
        f"for p in range(0, len(data), {chunk * 97}):\n"
        "    sys.stdout.buffer.write(data[p:p + " + str(chunk * 97) + "]); sys.stdout.flush()\n"
        "    time.sleep(0.001)\n"
        "print('DONE', flush=True); input()\n"
    )
    session = ta.start("writer", ["python3", "-c", code])
    collected = ""
    while "DONE" not in collected:
        collected += session.read()
    assert collected.split("\n")[:2000] == [str(i) for i in range(2000)]


def test_record_restart(ta: tmuxagent.Server, cli: CLI, tmp_path: Path) -> None:
    session = ta.start("again", ["sh", "-c", "while true; do echo tick; sleep 0.1; done"])
    cli.ok("record", "again")
    cli.ok("record", "again", "--stop")
    cli.ok("record", "again")  # at once: the second recording starts clean
    assert cli.ok("status", "again", "--json").count('"recording": true') == 1
    session.wait_text("tick")
    cast = tmp_path / "again.cast"
    cli.ok("record", "again", "--cast", str(cast))
    _, events = read_cast(cast)
    times = [e[0] for e in events]
    assert times == sorted(times) and times[-1] < 5
    assert cli("record", "again", "--cast", str(cast), "--stop").returncode == 2
