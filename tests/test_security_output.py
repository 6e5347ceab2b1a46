"""Security: what programs choose cannot reach the caller's terminal as
control characters, and cannot make rendering their output slow.

A program picks its directory's name and everything it prints; the CLI shows
both to a human's terminal (or to a log an agent later ``cat``s). Escape
sequences there could set the window title, recolour the screen or forge
lines; so text output shows control characters as visible escapes, JSON
escapes DEL and C1 too, and the emulator drops what tmux drops.
"""

from __future__ import annotations

import json
import random
import shlex
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import CLI, wait_until
from tests.test_term import compare_with_tmux
from tmuxagent._term import Terminal, render

#: A name that sets the window title, turns the text red and forges a line,
#: with a tab, DEL and C1 characters (CSI, NEL) besides.
EVIL = "x\x1b]0;PWNED\x07\x1b[31mred\nfake: line\t\x7f\u009b1m\u0085end"
#: How the CLI's text output shows it.
EVIL_SHOWN = "x\\x1b]0;PWNED\\x07\\x1b[31mred\\nfake: line\\t\\x7f\\x9b1m\\x85end"


def controls(text: str) -> list[str]:
    """The C0 (but newline), DEL and C1 characters in ``text``."""
    return [c for c in text if (c < " " and c != "\n") or "\x7f" <= c <= "\x9f"]


def forged(text: str) -> bool:
    """Whether a line of ``text`` starts where EVIL's newline would start one."""
    return any(line.startswith("fake: line") for line in text.split("\n"))


def bash_quote(text: str) -> str:
    """``text`` as a bash $'...' word in printable ASCII (typing ESC would not work)."""
    safe = {chr(c) for c in range(0x20, 0x7F)} - {"\\", "'"}
    word = (c if c in safe else "".join(f"\\x{b:02x}" for b in c.encode()) for c in text)
    return "$'" + "".join(word) + "'"


@pytest.fixture
def evil_dir(shell: tmuxagent.Session, tmp_path: Path) -> Path:
    """The agent shell, in a directory named EVIL."""
    odd = tmp_path / EVIL
    odd.mkdir()
    assert shell.run(f"cd {bash_quote(str(odd))}").cwd == str(odd)
    wait_until(lambda: shell.status().cwd == str(odd), what="tmux to see the new directory")
    return odd


def test_status_shows_a_directory_name_escaped(evil_dir: Path, cli: CLI) -> None:
    out = cli.ok("status", "sh")
    assert controls(out) == [] and not forged(out)
    assert f"cwd: {evil_dir.parent}/{EVIL_SHOWN}" in out.split("\n")
    # JSON: the exact name comes back, DEL and C1 as \u00XX escapes.
    raw = cli.ok("status", "sh", "--json")
    assert controls(raw) == []
    assert "\\u007f" in raw and "\\u009b" in raw and "\\u0085" in raw
    assert json.loads(raw)["cwd"] == str(evil_dir)


def test_list_and_start_show_names_escaped(evil_dir: Path, cli: CLI) -> None:
    argv = ["sh", "-c", "exec sleep 300", EVIL]
    started = cli.ok("start", "evil", "--", *argv)
    assert controls(started) == [] and not forged(started)
    assert EVIL_SHOWN in started
    out = cli.ok("list")
    assert controls(out) == [] and not forged(out)
    lines = out.split("\n")
    assert len(lines) == 4  # header, two sessions, and the final newline
    assert EVIL_SHOWN in lines[1] + lines[2]
    raw = cli.ok("list", "--json")
    assert controls(raw) == []
    infos = {i["name"]: i for i in json.loads(raw)}
    assert infos["sh"]["cwd"] == str(evil_dir)
    assert infos["evil"]["command"] == shlex.join(argv)


def test_c1_escapes_in_values_are_visible() -> None:
    """The helper itself: every C0, DEL and C1 character, and nothing else."""
    from tmuxagent._cli_io import dump_json as _dump_json
    from tmuxagent._cli_io import visible as _visible

    every = "".join(map(chr, range(0xA0)))
    named = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
    expected = "".join(
        named.get(c, f"\\x{ord(c):02x}") if controls(c) or c == "\n" else c for c in every
    )
    assert _visible(every) == expected
    assert expected.startswith("\\x00\\x01") and "\\x08\\t\\n\\x0b\\x0c\\r\\x0e" in expected
    assert "}~\\x7f\\x80\\x81" in expected and expected.endswith("\\x9e\\x9f")
    normal = "é 日本 🎉 e\u0301 \u00a0\u00ad\u200b"  # (not controls)
    assert _visible(normal) == normal and _visible("\\x1b") == "\\x1b"
    dumped = _dump_json({"v": every + normal})
    assert controls(dumped) == [] and json.loads(dumped) == {"v": every + normal}
    assert normal in dumped  # no \u escapes beyond DEL and C1


#: Output with C1 control characters written as UTF-8 (CSI, OSC, ST, NEL, DCS, PAD),
#: and what remains of it: tmux shows none of them.
C1_COMMAND = r"printf 'a\xc2\x9b31mb\xc2\x9d0;t\xc2\x9cc\xc2\x85d\xc2\x90e\xc2\x80f\n'"
C1_SHOWN = "a31mb0;tcdef"
#: Non-ASCII text that must stay as it is: accents, wide, emoji, combining marks.
UNICODE_COMMAND = r"printf '\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89 e\xcc\x81!\n'"
UNICODE_SHOWN = "é 日本 🎉 e\u0301!"


def test_run_read_and_wait_drop_c1_characters(shell: tmuxagent.Session, cli: CLI) -> None:
    assert cli.ok("run", "sh", "--", C1_COMMAND) == C1_SHOWN + "\n"
    assert cli.ok("run", "sh", "--", UNICODE_COMMAND) == UNICODE_SHOWN + "\n"
    raw = cli.ok("run", "sh", "--json", "--", C1_COMMAND)
    assert json.loads(raw)["output"] == C1_SHOWN
    cli.ok("read", "sh")
    cli.ok("send", "sh", "--enter", "--", f"{C1_COMMAND}; {UNICODE_COMMAND}")
    assert cli.ok("wait", "sh", "--text", "^a.?31mb") == C1_SHOWN + "\n"
    assert cli.ok("wait", "sh", "--prompt") == f"{C1_SHOWN}\n{UNICODE_SHOWN}\n"
    out = cli.ok("read", "sh")
    assert controls(out) == []
    assert out.split("\n")[1:3] == [C1_SHOWN, UNICODE_SHOWN]
    assert controls(shell.transcript()) == []
    assert C1_SHOWN in shell.transcript().split("\n")


def test_the_emulator_drops_what_tmux_drops(ta: tmuxagent.Server, tmp_path: Path) -> None:
    """C1 controls, line and paragraph separators: tmux shows none of them;
    format characters, private use and spaces it keeps."""
    dropped = "\u0080\u0085\u0090\u009b\u009c\u009d\u009f\u2028\u2029"
    kept = "\u00a0\u00ad\u200b\u2066\ue000é日本🎉e\u0301"
    assert render(f"<{dropped}>{kept}\r\n".encode()) == f"<>{kept}\n"
    out = tmp_path / "out.txt"
    out.write_text("".join(f"{i}<{c}>\n" for i, c in enumerate(dropped + kept)))
    session = ta.start("c1", ["sh", "-c", f"cat {out}; exec sleep 300"], size="80x24")
    wait_until(lambda: session.log_path.stat().st_size >= out.stat().st_size, what="the output")
    compare_with_tmux(session)


#: Sequences cut short by ESC, CAN or SUB: tmux drops all of each (an ESC
#: starts the next sequence); they used to leave text behind ('[', ']0;t').
CUT_SHORT = [
    b"\x1b[\x1b[31m", b"\x1b]0;t\x1bx", b"\x1b\x1bq", b"\x1bP1\x1b[x", b"\x1b]0;x\x1b[1m",
    b"\x1b(\x1b[1m", b"\x1b[1;2\x1bb", b"\x1b[12\x18", b"\x1b[12\x1a", b"\x1b]0;x\x18",
    b"\x1b\x18", b"\x1b(\x1a", b"\x1bP\x1b]0;t\x07",
]  # fmt: skip


def test_sequences_cut_short_vanish_as_in_tmux(ta: tmuxagent.Server, tmp_path: Path) -> None:
    data = b"".join(b"%da%sb\r\n" % (i, cut) for i, cut in enumerate(CUT_SHORT))
    whole = render(data)
    assert whole.split("\n") == [f"{i}ab" for i in range(len(CUT_SHORT))] + [""]
    rng = random.Random(3)
    for _ in range(20):  # the same, however the stream is cut into pieces
        term, pos = Terminal(80, 24), 0
        while pos < len(data):
            step = rng.randint(1, 5)
            term.feed(data[pos : pos + step])
            pos += step
        assert (term.text(), term.pending) == (whole, 0)
    out = tmp_path / "out.bin"
    out.write_bytes(data.replace(b"\r\n", b"\n"))
    session = ta.start("cut", ["sh", "-c", f"cat {out}; exec sleep 300"], size="80x24")
    wait_until(lambda: session.log_path.stat().st_size >= len(data), what="the output")
    compare_with_tmux(session)


# -- rendering stays linear --------------------------------------------------------

K = 1 << 10

#: Inputs that used to take quadratic time, and others that must not: how to
#: make n bytes of each, and an n that takes long enough to measure.
PATHOLOGICAL: dict[str, tuple[Callable[[int], bytes], int]] = {
    "stray ESC": (lambda n: b"\x1b" * n, 512 * K),
    "ESC [ pairs": (lambda n: b"\x1b[" * (n // 2), 512 * K),
    "ESC ] pairs": (lambda n: b"\x1b]" * (n // 2), 512 * K),
    "ESC P pairs": (lambda n: b"\x1bP" * (n // 2), 512 * K),
    "ESC ESC q": (lambda n: b"\x1b\x1bq" * (n // 3), 128 * K),
    "ESC BEL pairs": (lambda n: b"\x1b\x07" * (n // 2), 128 * K),
    "ESC 0xff pairs": (lambda n: b"\x1b\xff" * (n // 2), 128 * K),
    "unterminated OSC": (lambda n: b"\x1b]0;" + b"A" * n, 1024 * K),
    "unterminated DCS": (lambda n: b"\x1bP" + b"x\x01" * (n // 2), 128 * K),
    "one long line": (lambda n: b"A" * n, 1024 * K),
    "one long line, UTF-8": (lambda n: "é".encode() * (n // 2), 256 * K),
    "random bytes": (lambda n: random.Random(n).randbytes(n), 128 * K),
}


class CountingBytes(bytes):
    """Bytes that count how many bytes are copied out of them by slicing."""

    copied = 0

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        part = super().__getitem__(key)
        if isinstance(key, slice):
            CountingBytes.copied += len(part)
        return part


@pytest.mark.parametrize(
    "name",
    ["stray ESC", "ESC [ pairs", "ESC ] pairs", "ESC ESC q", "ESC BEL pairs", "ESC 0xff pairs"],
)
def test_stray_escapes_are_not_copied_again_and_again(name: str) -> None:
    """Each stray ESC used to copy the rest of the buffer: quadratic time."""
    data = CountingBytes(PATHOLOGICAL[name][0](256 * K))
    CountingBytes.copied = 0
    term = Terminal(80, 24)
    term.feed(data)
    assert CountingBytes.copied <= 2 * len(data)
    assert term.pending <= 2


def _cpu_seconds(data: bytes) -> float:
    term = Terminal(80, 24)
    start = time.process_time()
    term.feed(data)
    term.text()
    return time.process_time() - start


def test_rendering_time_grows_linearly() -> None:
    """Four times the input takes about four times as long (quadratic: 16).

    CPU time, the better of two runs for the larger input, and a generous
    cap, so that a busy machine does not make the test fail.
    """
    slow = {}
    for name, (make, n) in PATHOLOGICAL.items():
        small = _cpu_seconds(make(n))
        if small > 5.0:  # (no need to wait for the larger one)
            slow[name] = (round(small, 3), None)
            continue
        limit = min(5.0, 8 * max(small, 0.02))
        large = _cpu_seconds(make(4 * n))
        if large >= limit:
            large = min(large, _cpu_seconds(make(4 * n)))
        if large >= limit:
            slow[name] = (round(small, 3), round(large, 3))
    assert slow == {}
