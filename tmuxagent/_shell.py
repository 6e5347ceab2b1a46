"""The agent shell: bash set up for agents, whose prompt reports each command.

``agent.bashrc`` makes bash print ``ESC ] 6973 ; tmuxagent ; STATUS ; CWD BEL``
before each prompt: an OSC sequence, which terminals do not show. In the
output stream, each such marker says the command typed before it has
finished, with its exit status and the shell's directory then. ``run`` and
``wait --prompt`` are built on :class:`ShellWatch`.
"""

from __future__ import annotations

import re

from ._output import OutputWatch
from ._records import RunResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._files import Mark, SessionFiles

PROMPT_MARKER = b"\x1b]6973;tmuxagent;"
_MARKER_BODY = re.compile(rb"6973;tmuxagent;(-?\d+);(.*)", re.S)


class ShellWatch(OutputWatch):
    """Follows the agent shell's output; :attr:`results` fills as prompts come."""

    def __init__(self, files: SessionFiles, mark: Mark, cols: int, rows: int) -> None:
        super().__init__(files, mark, cols, rows)
        self.results: list[RunResult] = []

    def on_osc(self, body: bytes) -> None:
        m = _MARKER_BODY.match(body)
        if m is None:
            return
        lines = self.lines()
        if lines and lines[-1] == "":
            lines.pop()
        cwd = m.group(2).decode("utf-8", "replace")
        self.results.append(RunResult("\n".join(lines), int(m.group(1)), cwd))

    def result(self) -> RunResult | None:
        """What the first command after the mark printed, once its prompt came."""
        return self.results[0] if self.results else None


def has_prompt(files: SessionFiles, since: int) -> bool:
    """Whether the shell printed a prompt in the log after offset ``since``."""
    chunk = 65536
    end = pos = files.log_size()
    while pos > since:
        start = max(since, pos - chunk)
        if files.read_log(start, min(end, pos + len(PROMPT_MARKER))).rfind(PROMPT_MARKER) != -1:
            return True
        pos = start
    return False
