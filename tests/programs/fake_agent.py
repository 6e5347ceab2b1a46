"""Draws an agent CLI's real screens, phase by phase, and takes its real answers.

    fake_agent.py claude|codex|gemini|aider [--work SECONDS]

ready (its input box, or aider's prompt) -> a line typed and Enter ->
working (its spinner and status line, redrawn ten times a second, with
words like "approve?" in its output) -> asking (its approval dialog) -> the
answer the real program takes (claude, gemini: 1 or Enter; codex: y; aider:
y then Enter) -> working -> ready again. The layouts and strings are the
programs' own (see tmuxagent/profiles/*.toml for where they come from). It
sets the terminal's title as each of them does. Ctrl-C ends it.
"""

# ruff: noqa: RUF001 - the real programs' own characters are the point

from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty

CLI = sys.argv[1]
WORK = float(sys.argv[sys.argv.index("--work") + 1]) if "--work" in sys.argv else 1.5
COLS = os.get_terminal_size().columns
RULE = "─" * COLS
SPIN = {"claude": "·✢*✶✻✽", "codex": "•◦", "gemini": "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏", "aider": "░█"}[CLI]
HISTORY = [
    "I will look at the tests first. Do you want to approve this? Not yet: reading.",
    "Should the flag be --verbose or -v? (y/n) questions come later.",
]


def out(text: str) -> None:
    os.write(1, text.encode())


def title(text: str) -> None:
    out(f"\x1b]0;{text}\x07")


def draw(rows: list[str], cursor: tuple[int, int] | None) -> None:
    """The whole screen: history at the top, ``rows`` at the bottom."""
    height = os.get_terminal_size().lines
    screen = (HISTORY + [""] * height)[: max(0, height - len(rows))] + rows
    body = "\r\n".join(row[:COLS] for row in screen[:height])
    where = f"\x1b[{cursor[0] + 1};{cursor[1] + 1}H\x1b[?25h" if cursor else "\x1b[?25l"
    out("\x1b[H\x1b[2J" + body + where)


def bottom_row(rows: list[str], back: int) -> int:
    height = os.get_terminal_size().lines
    return height - back


# -- each CLI's screens --------------------------------------------------------------


def ready(typed: str) -> None:
    if CLI == "claude":
        title("✳ Claude Code")
        rows = ["✻ Worked for 41s", "", RULE, f"❯\u00a0{typed}", RULE, "  ? for shortcuts"]
        draw(rows, (bottom_row(rows, 3), 2 + len(typed)))
    elif CLI == "codex":
        title("project")
        rows = ["", f"› {typed or 'Explain this codebase'}", "", "  gpt-5.5 medium · ~/project"]
        draw(rows, (bottom_row(rows, 3), 2 + len(typed)))
    elif CLI == "gemini":
        title("◇  Ready (project)".ljust(80))
        rows = gemini_bottom("", typed)
        draw(rows, (bottom_row(rows, 4), 5 + len(typed)))
    elif not typed:
        out(f"\r\n{RULE}\r\nsrc/app.py\r\n> ")
    else:
        out(typed[-1])


def gemini_bottom(status: str, typed: str) -> list[str]:
    return [
        status.ljust(COLS - 16) + "? for shortcuts", RULE,
        " Shift+Tab to accept edits".ljust(COLS - 16) + "1 GEMINI.md file",
        "▄" * COLS, f" >   {typed or 'Type your message or @path/to/file'}", "▀" * COLS,
        " workspace (/directory)     branch     sandbox          /model",
        " ~/project                  main       no sandbox       Auto (Gemini 3)",
    ]  # fmt: skip


def working(frame: int, seconds: float) -> None:
    glyph = SPIN[frame % len(SPIN)]
    if CLI == "claude":
        title(f"{'⠐⠂'[frame % 2]} Add a verbose flag")
        rows = ["● Read(src/app.py)", "  ⎿  Read 120 lines", "",
                f"{glyph} Checking whether to approve… ({int(seconds)}s · ↑ 1.2k tokens)",
                RULE, "❯\u00a0", RULE,
                "  ⏵⏵ accept edits on (shift+tab to cycle) · esc to interrupt"]  # fmt: skip
        draw(rows, None)
    elif CLI == "codex":
        title(f"{'⠋⠙⠹⠸'[frame % 4]} project")
        rows = [f"{glyph} Working ({int(seconds)}s • esc to interrupt)", "", "",
                "› ", "", "  gpt-5.5 medium · ~/project"]  # fmt: skip
        draw(rows, None)
    elif CLI == "gemini":
        title("✦  Working… (project)".ljust(80))
        rows = gemini_bottom(f" {glyph} Shall I approve it? (esc to cancel, {int(seconds)}s)", "")
        draw(rows, None)
    else:
        bar = (" " * 8 + "░█" + " " * 8)[8 - frame % 9 :][:10]
        out(f"\r{bar} Waiting for anthropic/claude-sonnet-4")


def asking() -> None:
    if CLI == "claude":
        rows = [RULE, " Bash command", "", "   npm test -- --watch=false", "   Run the test suite",
                "", " Do you want to proceed?", " ❯ 1. Yes",
                "   2. Yes, and don't ask again for npm test commands in /home/u/project",
                "   3. No, and tell Claude what to do differently (esc)", "",
                " Esc to cancel · Tab to amend · ctrl+e to explain"]  # fmt: skip
        draw(rows, None)
    elif CLI == "codex":
        rows = ["", "  Would you like to run the following command?", "",
                "  Reason: run the tests", "", "  $ npm test", "",
                "› 1. Yes, proceed (y)",
                "  2. Yes, and don't ask again for commands that start with `npm test` (p)",
                "  3. No, and tell Codex what to do differently (esc)", "",
                "  Press enter to confirm or esc to cancel"]  # fmt: skip
        draw(rows, None)
    elif CLI == "gemini":
        title("✋  Action Required (project)".ljust(80))
        inner = COLS - 4
        rows = ["╭" + "─" * (COLS - 2) + "╮",
                "│ ? Shell  Executes a bash command".ljust(COLS - 1) + "│",
                "│ ╭" + "─" * (inner - 2) + "╮ │", "│ │ npm test".ljust(COLS - 3) + "│ │",
                "│ ╰" + "─" * (inner - 2) + "╯ │",
                "│ Allow execution of [Shell]?".ljust(COLS - 1) + "│", "│".ljust(COLS - 1) + "│",
                "│ ● 1. Allow once".ljust(COLS - 1) + "│",
                "│   2. Allow for this session".ljust(COLS - 1) + "│",
                "│   3. No, suggest changes (esc)".ljust(COLS - 1) + "│",
                "╰" + "─" * (COLS - 2) + "╯"]  # fmt: skip
        draw(rows, None)
    else:
        out("\r" + " " * 60 + "\r")
        out("I will run the tests.\r\n\r\npytest -q\r\n")
        out("Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]: ")


def answered(key: bytes, line: bytes) -> bool:
    """Whether ``key`` (aider: the line typed) is the answer that approves."""
    if CLI == "codex":
        return key in (b"y", b"\r")
    if CLI == "aider":
        return key == b"\r" and line.strip().lower() in (b"y", b"yes", b"")
    return key in (b"1", b"\r")


# -- the phases ------------------------------------------------------------------------


def keys(timeout: float | None) -> bytes:
    if not select.select([0], [], [], timeout)[0]:
        return b""
    data = os.read(0, 64)
    if b"\x03" in data:
        raise KeyboardInterrupt
    return data


def work(seconds: float) -> None:
    started = time.monotonic()
    frame = 0
    while (left := started + seconds - time.monotonic()) > 0:
        working(frame, time.monotonic() - started)
        frame += 1
        keys(min(0.1, left))


def main() -> None:
    saved = termios.tcgetattr(0)
    tty.setraw(0)
    try:
        while True:
            typed = ""
            ready("")
            while True:
                key = keys(None)
                if key == b"\r":
                    break
                if key and key >= b" ":
                    typed += key.decode(errors="replace")
                    ready(typed)
            if CLI == "aider":
                out("\r\n\r\n")
            work(WORK)
            asking()
            line = b""
            while True:
                key = keys(None)
                if CLI == "aider" and key not in (b"\r", b""):
                    line += key
                    out(key.decode(errors="replace"))
                    continue
                if answered(key, line):
                    break
            if CLI == "aider":
                out("\r\n")
            HISTORY.append("Ran npm test: 12 passed.")
            work(WORK / 2)
            if CLI == "aider":
                out("\r" + " " * 60 + "\rRan pytest -q: 12 passed.\r\n")
                out("Tokens: 8.6k sent, 59 received. Cost: $0.03 message, $0.03 session.")
    except KeyboardInterrupt:
        pass
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)


main()
