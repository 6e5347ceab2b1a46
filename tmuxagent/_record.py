"""Recording: when each byte of a session's output arrived, and asciicast export.

The log (``output.log``) has every byte but no times. A recording adds them:
a small watcher process, started through tmux (``run-shell -b``, so it runs
where tmux runs), notes ``seconds offset`` in the session's ``timing`` file
each time the log grows. The log keeps a single writer (tmux's pipe), so
recording can start and stop at any moment without a gap or a reordering.
A recording started mid-session also keeps the screen as it was then, so a
replay starts from what a person would have seen.

``python -I -S _record.py STATE_DIR ID SERVER_PID`` is the watcher; it stops
when the session's state directory goes, when its recording is stopped or
replaced by a newer one (each has an id, and its own timing file), or when
the tmux server is gone.
"""

from __future__ import annotations

import json
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from ._files import SessionFiles

HEADER = "recording.json"
STOP = "recording.stop"
#: Where the watcher's own errors go (a traceback, should it ever crash).
ERRORS = "recorder.log"
_POLL = 0.005


def recording_info(files: SessionFiles) -> dict[str, Any] | None:
    try:
        with open(os.path.join(files.root, HEADER), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_recording(files: SessionFiles) -> bool:
    """Recording now (a watcher runs and was not asked to stop)."""
    return recording_info(files) is not None and not os.path.exists(os.path.join(files.root, STOP))


def begin(files: SessionFiles, header: dict[str, Any]) -> list[str]:
    """Write the recording's header; return the tmux command that starts the watcher.

    ``header`` holds ``started`` (epoch seconds), ``offset`` (where in the log
    the recording starts), ``cols``, ``rows`` and ``screen`` (what a replay
    shows first). The watcher's own errors go to ``recorder.log``.
    """
    import shlex

    from ._files import replace_file
    from ._tmux import format_escape

    try:
        os.unlink(os.path.join(files.root, STOP))
    except FileNotFoundError:
        pass
    recording = os.urandom(4).hex()
    # An older watcher sees the new id and ends.
    replace_file(os.path.join(files.root, HEADER), json.dumps({"id": recording, **header}).encode())
    watcher = shlex.join(
        [sys.executable, "-I", "-S", os.path.abspath(__file__), files.root, recording]
    )
    errors = shlex.quote(os.path.join(files.root, ERRORS))
    # tmux fills in #{pid}, its own pid: the watcher ends when the server does.
    # umask: recorder.log, made by the shell, is private like every other file.
    run = f"exec {format_escape(watcher)} #{{pid}} >/dev/null 2>>{format_escape(errors)}"
    command = f"umask 077; {run}"
    return ["run-shell", "-b", command]


def stop(files: SessionFiles) -> None:
    """Stop recording: the recording ends where the log is now."""
    from ._files import replace_file

    path = os.path.join(files.root, STOP)
    if recording_info(files) is not None and not os.path.exists(path):
        replace_file(path, str(files.log_size()).encode())


def _stop_offset(files: SessionFiles) -> int | None:
    try:
        with open(os.path.join(files.root, STOP), encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def write_cast(files: SessionFiles, title: str, out: TextIO) -> int:
    """Write the recording as asciicast v2; returns the number of events."""
    info = recording_info(files)
    if info is None:
        raise FileNotFoundError(files.root)
    header = {
        "version": 2,
        "width": info["cols"],
        "height": info["rows"],
        "timestamp": int(info["started"]),
        "title": title,
        "env": {"TERM": "tmux-256color", "SHELL": os.environ.get("SHELL", "/bin/sh")},
    }
    out.write(json.dumps(header) + "\n")
    events = 0
    if info.get("screen"):
        out.write(json.dumps([0.0, "o", info["screen"]]) + "\n")
        events += 1
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    markers = _Markers(files.meta().get("prompt_token"))
    position = int(info["offset"])
    stopped = _stop_offset(files)
    end = stopped if stopped is not None else files.log_size()
    last = 0.0
    timing_path = _timing_path(files.root, str(info.get("id", "")))
    with open(files.log, "rb") as log, open(timing_path, encoding="ascii") as timing:
        log.seek(position)
        for line in timing:
            try:
                seconds_s, offset_s = line.split()
                seconds, offset = float(seconds_s), min(int(offset_s), end)
            except ValueError:
                continue  # a line being written right now
            text = markers.drop(decoder.decode(log.read(max(0, offset - position))))
            position = max(position, offset)
            last = max(last, seconds)
            if text:
                out.write(json.dumps([round(last, 6), "o", text]) + "\n")
                events += 1
        # Output the watcher had not noted yet (it looks every few ms).
        text = markers.drop(
            decoder.decode(log.read(max(0, end - position)), final=True), final=True
        )
        if text:
            out.write(json.dumps([round(last, 6), "o", text]) + "\n")
            events += 1
    return events


class _Markers:
    """Takes the agent shell's prompt markers out of a recording's text: they
    hold the session's secret ``token``, and casts get shared. Only markers
    with the token go (output that looks like one stays). A marker may be
    split across two events: what may be its start is held back, at most
    :data:`HOLD` characters (a real marker is far shorter)."""

    HOLD = 65536

    def __init__(self, token: str | None) -> None:
        import re

        self.prefix = "\x1b]6973;tmuxagent;" + (token + ";" if token else "")
        self._marker = re.compile(re.escape(self.prefix) + r"[^\x07\x1b]*(?:\x07|\x1b\\)")
        self._held = ""

    def drop(self, text: str, *, final: bool = False) -> str:
        text = self._marker.sub("", self._held + text)
        self._held = ""
        if final:
            return text
        prefix = self.prefix
        start = text.rfind(prefix, max(0, len(text) - self.HOLD))
        if start == -1:  # the text may end in the marker's first characters
            start = next(
                (len(text) - n for n in range(len(prefix) - 1, 0, -1) if text.endswith(prefix[:n])),
                -1,
            )
        if start != -1:
            text, self._held = text[:start], text[start:]
        return text


def _timing_path(root: str, recording: str) -> str:
    return os.path.join(root, f"timing-{recording}")


def _current(root: str) -> str | None:
    try:
        with open(os.path.join(root, HEADER), encoding="utf-8") as f:
            return str(json.load(f).get("id"))
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(root: str, recording: str, server_pid: int) -> None:
    """Note the log's size each time it grows, until told to stop."""
    with open(os.path.join(root, HEADER), encoding="utf-8") as f:
        started = float(json.load(f)["started"])
    log = os.path.join(root, "output.log")
    stop_flag = os.path.join(root, STOP)
    size = -1
    next_check = 0.0
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(_timing_path(root, recording), flags, 0o600)
    with open(fd, "a", encoding="ascii") as timing:
        while True:
            try:
                now_size = os.stat(log).st_size
            except FileNotFoundError:
                return  # the session was killed
            if now_size != size:
                size = now_size
                timing.write(f"{time.time() - started:.6f} {size}\n")
                timing.flush()
            now = time.monotonic()
            if now >= next_check:
                stopped = os.path.exists(stop_flag) or _current(root) != recording
                if stopped or not _alive(server_pid):
                    return
                next_check = now + 0.5
            time.sleep(_POLL)


if __name__ == "__main__":
    watch(sys.argv[1], sys.argv[2], int(sys.argv[3]))
