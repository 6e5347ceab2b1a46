"""Waits wake when the log is written (inotify), and work without it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import tmuxagent
from tmuxagent import _wake


def sleeper(wake: _wake.Wake, seconds: float) -> threading.Thread:
    thread = threading.Thread(target=wake.sleep, args=(seconds,), daemon=True)
    thread.start()
    return thread


@pytest.mark.skipif(_wake._unavailable, reason="no inotify here")
def test_a_sleep_ends_when_its_file_is_written(tmp_path: Path) -> None:
    log, other = tmp_path / "log", tmp_path / "other"
    log.write_bytes(b"")
    other.write_bytes(b"")
    _wake.Wake(str(other)).sleep(0)  # a watch from an earlier wait
    wake = _wake.Wake(str(log))
    wake.sleep(0)  # watching now
    thread = sleeper(wake, 120)
    with other.open("ab") as f:  # another file's events are slept through
        f.write(b"x")
    thread.join(0.3)
    assert thread.is_alive()
    with log.open("ab") as f:
        f.write(b"new output")
    thread.join(30)  # a deadline: it ends at once, or the 120 s sleep fails this
    assert not thread.is_alive()


def test_a_one_call_process_watches_only_in_a_long_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_wake, "WATCH_AFTER", 3600.0)
    (tmp_path / "log").write_bytes(b"")
    wake = _wake.Wake(str(tmp_path / "log"), later=True)
    wake.sleep(0.01)
    assert wake._wd is None  # a timer: no ctypes, no watch for a short wait
    monkeypatch.setattr(_wake, "WATCH_AFTER", 0.0)
    later = _wake.Wake(str(tmp_path / "log"), later=True)
    later.sleep(0.01)
    assert later._wd is not None


def test_waits_work_without_inotify(ta: tmuxagent.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_wake, "_unavailable", True)
    monkeypatch.setattr(_wake, "_inotify", None)
    session = ta.start("py", ["python3", "-q"], wait=">>> $")
    sent = session.send("6*7", enter=True, wait=r"^\d+$", timeout=20)
    assert sent.output == "42"
    assert session.send("6*7", enter=True, wait=r"^\d+$", timeout=20).output == "42"
