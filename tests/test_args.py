"""The CLI's parser, in-process: the verb table of cli.py read by _cli_io.parse."""

from __future__ import annotations

import math

import pytest

from tmuxagent import __version__
from tmuxagent._cli_io import Args, Exit, Opt, Verb, parse
from tmuxagent.cli import VERBS, _main_help


def run(*argv: str) -> tuple[str, Args]:
    verb, args = parse(list(argv), VERBS, _main_help, __version__)
    return verb.name, args


def refused(*argv: str) -> str:
    """The one-line error for ``argv`` (exit code 2)."""
    with pytest.raises(Exit) as caught:
        run(*argv)
    assert caught.value.code == 2
    message = caught.value.message
    assert "\n" not in message and "--help" in message
    return message


def test_global_options_before_the_verb() -> None:
    name, args = run("-S", "/tmp/x", "--tmux-timeout", "2.5", "list")
    assert (name, args.socket, args.tmux_timeout) == ("list", "/tmp/x", 2.5)
    _, args = run("--socket=/tmp/y", "list")
    assert (args.socket, args.tmux_timeout) == ("/tmp/y", 10.0)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e99", "soon"])
def test_tmux_timeout_must_be_a_positive_finite_number(value: str) -> None:
    assert "--tmux-timeout" in refused("--tmux-timeout", value, "list")


def test_help_and_version_exit_0() -> None:
    for argv in (["--help"], ["-h"]):
        with pytest.raises(Exit) as caught:
            run(*argv)
        assert caught.value.code == 0
        assert "--tmux-timeout" in caught.value.message and "exit codes" in caught.value.message
    with pytest.raises(Exit) as caught:
        run("--version")
    assert (caught.value.code, caught.value.message) == (0, f"tmuxagent {__version__}")
    with pytest.raises(Exit) as caught:
        run("send", "--help")
    assert caught.value.code == 0
    assert caught.value.message.startswith("usage: tmuxagent send NAME")
    assert "--enter" in caught.value.message


def test_bad_verbs_and_options() -> None:
    assert "no verb" in refused()
    assert "unknown verb 'sned'" in refused("sned", "x")
    assert "unknown option '--bogus'" in refused("--bogus", "list")
    assert "-S needs a value" in refused("-S")
    assert "unknown option '--bogus'" in refused("send", "x", "--bogus", "hi")
    assert "--timeout needs a value" in refused("wait", "x", "--timeout")
    assert "--enter takes no value" in refused("send", "x", "--enter=yes", "hi")
    assert "--lines wants a whole number" in refused("capture", "x", "--lines", "ten")
    assert "--lines wants a whole number" in refused("capture", "x", "--lines", "2.5")
    assert "NAME is missing" in refused("status")
    assert "TEXT is missing" in refused("send", "x")
    assert "unexpected '600'" in refused("wait", "x", "--prompt", "600")


def test_text_that_looks_like_an_option() -> None:
    assert "unknown option '-x'" in refused("send", "py", "-x")
    _, args = run("send", "py", "--", "-x", "--enter")
    assert (args.name, args.text, args.enter) == ("py", ["-x", "--enter"], False)
    _, args = run("send", "py", "-5", "-", "-2.5e3")
    assert args.text == ["-5", "-", "-2.5e3"]
    _, args = run("send", "--enter", "py", "print(1)")
    assert (args.text, args.enter) == (["print(1)"], True)


def test_positionals_and_defaults() -> None:
    _, args = run("start", "py", "--", "python3", "-q")
    assert (args.name, args.command, args.size, args.env) == ("py", ["python3", "-q"], "120x40", [])
    _, args = run("start", "sh", "--env", "A=1", "--env=B=2", "--record")
    assert (args.command, args.env, args.record) == ([], ["A=1", "B=2"], True)
    _, args = run("paste", "py")
    assert args.file is None
    _, args = run("paste", "py", "-")
    assert args.file == "-"
    _, args = run("kill", "--all")
    assert (args.names, args.all) == ([], True)
    _, args = run("kill", "a", "b")
    assert args.names == ["a", "b"]
    _, args = run("read", "py")
    assert args.max_chars == 500_000
    _, args = run("wait", "py", "--idle=0.5", "--timeout", "3")
    assert (args.idle, args.timeout, args.text) == (0.5, 3.0, None)


def test_a_synthetic_table() -> None:
    """The parser alone, on a verb table made for the edge cases."""

    def nothing(args: Args) -> int:
        return 0

    verbs = {
        "cp": Verb(
            "cp",
            nothing,
            "copy",
            [("src", "SRC", "+"), ("dst", "DST", 1)],
            [Opt("--n", "int", "count", positive=True), Opt("--tag", "list", "tags")],
        )
    }
    verb, args = parse(["cp", "a", "b", "c", "--tag", "x", "--tag=y"], verbs, str, "1")
    assert (verb.name, args.src, args.dst, args.tag, args.n) == (
        "cp",
        ["a", "b"],
        "c",
        ["x", "y"],
        None,
    )
    with pytest.raises(Exit, match="SRC is missing"):
        parse(["cp", "only"], verbs, str, "1")
    with pytest.raises(Exit, match="above 0"):
        parse(["cp", "a", "b", "--n", "0"], verbs, str, "1")
    with pytest.raises(AttributeError):
        _ = args.never_set
    assert "usage: tmuxagent cp SRC... DST [--n INT] [--tag LIST]" in verbs["cp"].help_text()


def test_every_verb_has_help() -> None:
    for name, verb in VERBS.items():
        assert name == verb.name and verb.help
        text = verb.help_text()
        assert text.startswith(f"usage: tmuxagent {name}")
        for opt in verb.options.values():
            assert opt.help and opt.name in text
            if opt.kind in ("int", "float") and opt.default is not None:
                assert math.isfinite(opt.default)
