"""The terminal emulator that renders the log: unit tests, and agreement with tmux."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import tmuxagent
from tests.conftest import wait_until
from tmuxagent._output import EchoFilter
from tmuxagent._term import Terminal, render


def feed(data: bytes, cols: int = 20, rows: int = 5, **kw: int) -> Terminal:
    term = Terminal(cols, rows, **kw)
    term.feed(data)
    return term


def test_plain_lines_and_scrollback() -> None:
    term = feed(b"".join(b"line %d\r\n" % i for i in range(10)))
    assert term.history == [f"line {i}" for i in range(6)]
    assert term.lines() == ["line 6", "line 7", "line 8", "line 9", ""]
    assert term.text().endswith("line 9\n")


def test_carriage_return_overwrites() -> None:
    assert feed(b"10%\r50%\r100%\r\n").history == [] and render(b"10%\r100%") == "100%"
    assert render(b"abcdef\rXY") == "XYcdef"


def test_backspace_and_erase() -> None:
    assert render(b"abc\b\bX") == "aXc"
    assert render(b"abcdef\x1b[3D\x1b[K") == "abc"
    assert render(b"abcdef\r\x1b[2K") == ""
    assert render(b"abcdef\x1b[2D\x1b[P") == "abcdf"
    assert render(b"abcdef\x1b[4G\x1b[2@") == "abc  def"


def test_wrapping_joins_rows() -> None:
    term = feed(b"x" * 45 + b"\r\nnext", cols=20)
    assert term.lines() == ["x" * 45, "next"]


def test_cursor_up_redraw_like_readline() -> None:
    # bash redraws a wrapped line after it: up one row, right, rewrite a char.
    data = b"echo " + b"a" * 35 + b" \r\x1bM" + b"\x1b[C" * 19 + b"\x1b[KE\r\n"
    assert feed(data, cols=20).lines() == ["echo " + "a" * 34 + "E", ""]


def test_mid_stream_start_hides_unknown_prefix() -> None:
    # A wait starts after the prompt: the row's start is unknown, not blank.
    term = feed(b"ls\r\nfile\r\n$ ", x=2, y=0)
    assert term.lines() == ["ls", "file", "$ "]


def test_prompt_keeps_trailing_space() -> None:
    assert render(b"out\r\n>>> ") == "out\n>>> "


def test_wide_and_combining_characters() -> None:
    term = feed("日本語 e\u0301 🎉!".encode(), cols=40)
    assert term.lines() == ["日本語 e\u0301 🎉!"]
    assert feed("一二三四五六".encode(), cols=5).lines() == ["一二三四五六"]  # no padding


def test_alternate_screen() -> None:
    data = b"$ less file\r\n\x1b[?1049h\x1b[H\x1b[2Jpage one\x1b[5;1H(END)"
    term = feed(data, cols=20, rows=5)
    assert term.alternate
    assert term.lines() == ["$ less file", "", "page one", "", "", "", "(END)"]
    term.feed(b"\x1b[?1049l$ ")
    assert not term.alternate
    assert term.lines() == ["$ less file", "$ "]


def test_clear_screen_keeps_history() -> None:
    term = feed(b"before\r\n\x1b[H\x1b[2Jafter")
    assert term.history == ["before"]
    assert term.lines() == ["after"]


def test_scroll_region_and_insert_delete_lines() -> None:
    term = feed(b"\x1b[Ha\r\nb\r\nc\r\nd\r\ne\x1b[2;4r\x1b[4;1H\r\nX", cols=10, rows=5)
    assert term.lines() == ["a", "c", "d", "X", "e"]
    assert term.history == ["b"]  # as in tmux, what leaves a region goes to history
    term = feed(b"\x1b[Ha\r\nb\r\nc\x1b[2;1H\x1b[L", cols=10, rows=5)
    assert term.lines() == ["a", "", "b", "c"]
    term = feed(b"\x1b[Ha\r\nb\r\nc\x1b[1;1H\x1b[M", cols=10, rows=5)
    assert term.lines() == ["b", "c"]


def test_queries_and_strings_vanish() -> None:
    noise = b"\x1b[6n\x1b[c\x1b[>c\x1b]11;?\x07\x1b]0;title\x1b\\\x1bP+q544e\x1b\\\x1b(B\x1b=ok"
    assert render(noise) == "ok"


def test_osc_callback() -> None:
    seen: list[bytes] = []
    term = Terminal(20, 5, on_osc=seen.append)
    term.feed(b"a\x1b]6973;tmuxagent;0;/tmp\x07b")
    assert seen == [b"6973;tmuxagent;0;/tmp"]
    assert term.lines() == ["ab"]


def test_repeat_char() -> None:
    assert render(b"-\x1b[9b") == "-" * 10


SAMPLES = [
    b"".join(b"%d\r\n" % i for i in range(100)),
    "ünï 日本 🎉\r\n".encode() * 5,
    b"\x1b[31mred\x1b[0m\x1b]0;t\x07\x1b[?1049h\x1b[Halt\x1b[?1049l\r\nmain\x1b[6n\x1bP+q\x1b\\",
    b"progress 1%\rprogress 50%\rprogress 100%\r\n" * 3,
]


@pytest.mark.parametrize("data", SAMPLES)
def test_chunked_feeding_gives_the_same_text(data: bytes) -> None:
    whole = render(data, 30, 6)
    rng = random.Random(7)
    for _ in range(30):
        term = Terminal(30, 6)
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 9)
            term.feed(data[pos : pos + step])
            pos += step
        assert term.text() == whole
        assert term.pending == 0


def test_incomplete_sequence_is_held_back() -> None:
    term = Terminal(20, 5)
    term.feed(b"abc\x1b[3")
    assert term.pending == 3 and term.lines() == ["abc"]
    term.feed(b"1mdef\xe6\x97")
    assert term.pending == 2 and term.lines() == ["abcdef"]
    term.feed(b"\xa5")
    assert term.pending == 0 and term.lines() == ["abcdef日"]


def test_echo_filter() -> None:
    echo = EchoFilter("sleep 1; echo DONE\n")
    assert echo.apply(["sleep 1; ec"]) == []  # echo still arriving
    assert echo.apply(["sleep 1; echo DONE", ""]) == [""]
    assert echo.apply(["sleep 1; echo DONE", "DONE", "$ "]) == ["DONE", "$ "]
    # A continuation prompt before each echoed line (Python's '... ').
    block = EchoFilter("for i in x:\n    print(i)\n\n")
    assert block.apply(["for i in x:", "...     print(i)", "...", "1", ">>> "]) == ["1", ">>> "]
    # A full-screen program draws the input elsewhere: drop lines holding it.
    tui = EchoFilter("say DONE\n")
    assert tui.apply(["╭────╮", "│ > say DONE │", "DONE"]) == ["╭────╮", "DONE"]
    # Short input is never hunted for outside the echo position.
    short = EchoFilter("y")
    assert short.apply(["Continue? [y/n] yes", "ok"]) == ["Continue? [y/n] yes", "ok"]


def compare_with_tmux(session: tmuxagent.Session, cols: int = 80, rows: int = 24) -> None:
    """Our rendering of the whole log equals tmux's own screen + scrollback."""
    log = session.log_path.read_bytes()
    ours = [ln.rstrip() for ln in render(log, cols, rows).split("\n")]
    while ours and not ours[-1]:
        ours.pop()
    theirs = session.capture(history=True).lines
    assert ours == theirs


def test_agrees_with_tmux_on_a_shell(ta: tmuxagent.Server) -> None:
    shell = ta.start("sh", size="80x24")
    shell.run("seq 1 60; printf 'no newline'; printf '\\r\\n'")
    shell.send("echo " + "long " * 30 + "; printf 'a\\tb\\n'", enter=True)
    shell.wait_text("^a\tb$|^a +b$")
    shell.paste("for i in 1 2\ndo echo $i\ndone", enter=True)
    shell.wait_text("^2$")
    shell.run("printf 'ünï 日本 \\033[1mbold\\033[0m\\n'")
    compare_with_tmux(shell)


def test_agrees_with_tmux_on_python(ta: tmuxagent.Server) -> None:
    py = ta.start("py", ["python3", "-q"], size="80x24", env={"PYTHON_BASIC_REPL": "1"})
    py.wait_text(">>> $")
    py.paste("def f(n):\n    return [i * i for i in range(n)]\n\n")
    py.send("f(40)", enter=True)
    py.wait_text(r"1521\]")
    compare_with_tmux(py)


def test_consecutive_renders_join_like_one() -> None:
    """read renders the log piece by piece; the pieces must join into the whole."""
    data = b"$ ls\r\nfile\r\n$ ec" + b"ho hi\r\nhi\r\n$ "
    whole = render(data, 20, 5)
    for cut in range(1, len(data)):
        first = Terminal(20, 5)
        first.feed(data[:cut])
        text = first.text()
        mid_line = bool(text) and not text.endswith("\n")
        second = Terminal(20, 5, x=first.x, y=first.y, continues_line=mid_line)
        second.feed(data[cut:])
        assert text + second.text() == whole, cut


TRICKY_OUTPUT = [
    b"a\tb\tc\td\te\tf\tg\th\ti\tj\tk\r\n",
    b"x" * 18 + b"AB\tTAIL\r\n",
    b"abc\x1b[2000000000@def\r\n",
    b"x\x1b[2000000000b\r\n",
    "wide 日本語日本語日本語日本語\r\n".encode(),
    b"12345\x1b[3D\x1b[1P\x1b[2X!\r\n",
    b"tail\x1b[999C!\r\n",
    b"\x1b[2;4r\x1b[4;1Hone\r\ntwo\r\nthree\x1b[r\x1b[5;1H",
]


@pytest.mark.parametrize("data", TRICKY_OUTPUT)
def test_agrees_with_tmux_on_tricky_output(
    ta: tmuxagent.Server, tmp_path: Path, data: bytes
) -> None:
    out = tmp_path / "out.bin"
    out.write_bytes(data)
    session = ta.start("tricky", ["sh", "-c", f"cat {out}; exec sleep 300"], size="20x5")
    session.wait_text(".", timeout=10)
    wait_until(lambda: session.log_path.stat().st_size >= len(data), what="all the output")
    compare_with_tmux(session, cols=20, rows=5)
