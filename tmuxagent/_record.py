"""Recording: asciicast export of a session's output, with its timing.

The log (``output.log``) has every byte; its writer (``_logwriter.py``)
notes in ``timing`` when the log grew, for every session, so any session's
output can be replayed with the pauses it had. ``record`` marks where a
recording starts (and ``record --stop`` where it ends): a recording started
mid-session also keeps the screen as it was then, so a replay starts from
what a person would have seen. Without a recording, the cast holds all the
log keeps, at the pane's size now (a size change during the session is not
kept, so a replay may draw differently then).
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from ._files import SessionFiles

HEADER = "recording.json"
STOP = "recording.stop"


def recording_info(files: SessionFiles) -> dict[str, Any] | None:
    try:
        with open(os.path.join(files.root, HEADER), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_recording(files: SessionFiles) -> bool:
    """Recording now (started, and not stopped)."""
    return recording_info(files) is not None and not os.path.exists(os.path.join(files.root, STOP))


def begin(files: SessionFiles, header: dict[str, Any]) -> None:
    """Write the recording's header: ``started`` (epoch seconds), ``offset``
    (where in the log the recording starts), ``cols``, ``rows`` and
    ``screen`` (what a replay shows first)."""
    from ._files import replace_file

    try:
        os.unlink(os.path.join(files.root, STOP))
    except FileNotFoundError:
        pass
    replace_file(os.path.join(files.root, HEADER), json.dumps(header).encode())


def stop(files: SessionFiles) -> bool:
    """Stop recording: the recording ends where the log is now. False when
    there was none to stop (never started, or stopped already)."""
    from ._files import replace_file

    path = os.path.join(files.root, STOP)
    if recording_info(files) is None or os.path.exists(path):
        return False
    replace_file(path, str(files.log_size()).encode())
    return True


def _stop_offset(files: SessionFiles) -> int | None:
    try:
        with open(os.path.join(files.root, STOP), encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def write_cast(files: SessionFiles, title: str, out: TextIO, cols: int, rows: int) -> int:
    """Write the recording (else all the log holds, at ``cols`` x ``rows``) as
    asciicast v2; returns the number of events."""
    info = recording_info(files)
    start = files.log_state().start
    if info is None:
        info = {"started": files.meta().get("created", 0.0), "offset": 0, "cols": cols,
                "rows": rows, "screen": ""}  # fmt: skip
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

    from ._launch import strip_sentinels

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    markers = _Markers(files.meta().get("prompt_token"))
    started = float(info["started"])
    position = max(int(info["offset"]), start)
    stopped = _stop_offset(files)
    end = stopped if stopped is not None else files.log_size()
    last = 0.0
    held = b""  # what may be the start of the launcher's end sentinel
    with open(files.log, "rb") as log, open(files.timing_path, "rb") as timing:
        if position == start and start:  # the log dropped what came before: whole lines on
            from ._read import line_start

            position += line_start(files.read_log(start, start + (1 << 20)))
        log.seek(position)
        try:  # past the timing lines dropped with the log's oldest part (a hole)
            timing.seek(os.lseek(timing.fileno(), 0, os.SEEK_DATA))
        except OSError:
            pass  # no data at all, or no holes here
        for line in timing:
            try:
                seconds_s, offset_s = line.split()
                seconds, offset = float(seconds_s) - started, min(int(offset_s), end)
            except ValueError:
                continue  # a line being written right now, or one cut by a dropped part
            if offset <= position:
                continue
            raw, held = strip_sentinels(held + log.read(offset - position))
            text = markers.drop(decoder.decode(raw))
            position = offset
            last = max(last, seconds)
            if text:
                out.write(json.dumps([round(last, 6), "o", text]) + "\n")
                events += 1
        # Output written since the last timing line.
        raw, held = strip_sentinels(held + log.read(max(0, end - position)))
        text = markers.drop(decoder.decode(raw + held, final=True), final=True)
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
