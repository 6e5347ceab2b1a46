"""The agent shell: bash set up for agents, whose prompt reports each command.

``agent.bashrc`` makes bash print, before each prompt,
``ESC ] 6973 ; tmuxagent ; TOKEN ; STATUS ; CWD BEL``: an OSC sequence, which
terminals do not show. In the output stream, each such marker says the
command typed before it has finished, with its exit status and the shell's
directory then. ``run`` and ``wait --prompt`` are built on :class:`ShellWatch`.

TOKEN is the session's own random secret (:func:`new_token`, kept in its
``meta.json`` as ``prompt_token``). bash takes it from the environment and
unsets it there before the first command, so no program run in the shell
finds it in its environment: a marker that a program prints (a file that is
``cat``-ed, say) lacks it and is ignored, as output. Sessions started by an
older tmuxagent have no token; their markers have the old form
``ESC ] 6973 ; tmuxagent ; STATUS ; CWD BEL`` and are trusted as before.
The token is not hidden from a program that goes looking for it as the same
user: it is in ``meta.json`` and inside the markers in the log (both 0600),
in the shell's own variables (``set``), and in the environment the shell
was started with (``/proc/PID/environ`` of the shell, ``ps e``); such a
program could as well type into the pane.

CWD is percent-encoded by bash (each byte outside printable ASCII, and ``%``,
as ``%XX``), so that any directory name survives, control characters
included. It is decoded to bytes, then to str as UTF-8 with ``'replace'``:
like the output text, and so that it always prints and goes into JSON (a
``surrogateescape`` str would be exact for names that are not UTF-8, but
cannot be written out as UTF-8). Names that are valid UTF-8 come back exactly.
"""

from __future__ import annotations

import os
import re

from ._output import OutputWatch
from ._records import RunResult
from .errors import SessionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._files import Mark, SessionFiles

#: What every marker starts with, the old form's and the new one's.
PROMPT_MARKER = b"\x1b]6973;tmuxagent;"
_OLD_BODY = re.compile(rb"6973;tmuxagent;(-?\d+);(.*)", re.S)
_TOKEN = re.compile(r"[0-9a-f]{16,64}")
_ESCAPED = re.compile(rb"%([0-9A-Fa-f]{2})")


def new_token() -> str:
    """A fresh session token for the prompt marker."""
    return os.urandom(12).hex()


def session_token(meta: dict[str, Any]) -> str | None:
    """The token in a session's metadata; None for a session that has none."""
    token = meta.get("prompt_token")
    if token is None:
        return None  # started by a tmuxagent before tokens
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise SessionError("the agent shell's metadata is damaged (prompt_token)")
    return token


def _body(token: str | None) -> re.Pattern[bytes]:
    """The OSC body of this session's markers: groups status and directory."""
    if token is None:
        return _OLD_BODY
    return re.compile(rb"6973;tmuxagent;" + token.encode() + rb";(-?\d+);([ -~]*)\Z")


def _cwd(raw: bytes, token: str | None) -> str:
    if token is not None:  # percent-encoded; the old form has the bytes as they are
        raw = _ESCAPED.sub(lambda e: bytes((int(e.group(1), 16),)), raw)
    return raw.decode("utf-8", "replace")


#: ``run`` keeps at most this many lines of a command's output from its
#: start and as many from its end while it runs, and returns at most
#: RUN_CHARS characters of it (the middle is left out, with a note, as
#: ``read`` does).
RUN_LINES = 20_000
RUN_CHARS = 500_000


class ShellWatch(OutputWatch):
    """Follows the agent shell's output; :attr:`results` fills as prompts come.

    Only markers with ``token`` count (any old-form ones when it is None).
    """

    def __init__(
        self, files: SessionFiles, mark: Mark, cols: int, rows: int, token: str | None = None
    ) -> None:
        self.token = token
        self._body = _body(token)
        self.results: list[RunResult] = []
        #: Where each prompt came, as (line, column) of the output's lines.
        self.ends: list[tuple[int, int]] = []
        self._head: list[str] | None = None
        self._head_end = 0  # the number of the line after the head
        self._start = mark.offset
        super().__init__(files, mark, cols, rows)

    def poll(self) -> bool:
        """As OutputWatch's; a command's long output keeps only its head and
        tail (the middle is left out, as ``read`` does): memory stays bounded."""
        took = super().poll()
        history = self.history
        if took and len(history) - history.forgotten > 4 * RUN_LINES:
            if self.echo.skip is None:
                self.lines()  # finds where the echo ends
            skip = self.echo.skip or 0
            if self._head is None:
                self._head = self.lines()[:RUN_LINES]
                self._head_end = skip + RUN_LINES
            history.forget(max(self._head_end, len(history) - RUN_LINES))
        return took

    def on_osc(self, body: bytes) -> None:
        m = self._body.match(body)
        if m is None:
            return
        history = self.history
        lines = self.lines(history.forgotten) if self._head is not None else self.lines()
        if lines and lines[-1] == "":
            lines.pop()
        output = "\n".join(lines)
        if self._head is not None or len(output) > RUN_CHARS:  # its head, a note, its tail
            head = "\n".join(self._head) if self._head is not None else output
            head, tail = head[: RUN_CHARS // 2], output[-(RUN_CHARS // 2) :]
            head = head[: head.rfind("\n") + 1] if "\n" in head else head
            tail = tail[tail.find("\n") + 1 :] if "\n" in tail else tail
            output = (
                f"{head}[... tmuxagent: output left out here; the full log is "
                f"{self.files.log} (from byte {self._start}) ...]\n{tail}"
            )
        cwd = _cwd(m.group(2), self.token)
        self.results.append(RunResult(output, int(m.group(1)), cwd))
        screen = self.term.lines()
        at = len(self.term.history) + len(screen) - 1
        self.ends.append((at, len(screen[-1])) if screen else (at + 1, 0))

    def result(self) -> RunResult | None:
        """What the first command after the mark printed, once its prompt came."""
        return self.results[0] if self.results else None


def has_prompt(files: SessionFiles, since: int, token: str | None) -> bool:
    """Whether the shell printed a prompt in the log after offset ``since``.

    A prompt with ``token``; any marker at all in a session without one.
    """
    needle = PROMPT_MARKER if token is None else PROMPT_MARKER + token.encode() + b";"
    chunk = 65536
    end = pos = files.log_size()
    while pos > since:
        start = max(since, pos - chunk)
        if files.read_log(start, min(end, pos + len(needle))).rfind(needle) != -1:
            return True
        pos = start
    return False
