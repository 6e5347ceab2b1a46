"""The CLI's own input and output (one module: the CLI imports it on every
call, and each module costs a fresh process about 0.3 ms).

**Arguments.** argparse (and what it imports) costs more than a tmux round
trip, and the CLI starts once per agent step; this parser does what
``tmuxagent`` needs and no more. ``cli.py`` holds the table of verbs;
:func:`parse` reads argv against it. Errors are :class:`Exit` with code 2 and
one line that names the verb's ``--help``.

**Output.** Values that programs choose are shown with their control
characters escaped; JSON likewise; ``read``'s text is delivered exactly,
with the read cursor moved no further than the output got. A file on a full
disk takes part of the output: the cursor moves past the pieces written
whole, so the next ``read`` gives the rest again. A reader that closes its
pipe early (``read NAME | head -3``) may have thrown away whatever it took:
then the cursor does not move at all. A verb whose output is its answer
(``read``, ``capture``, ``wait``, ``run``...) does nothing when stdout was
closed from the start (exit 2), as ``paste`` from a closed stdin.
"""

from __future__ import annotations

import os
import sys

from ._poll import TMUX_TIMEOUT
from .errors import UsageError, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    from ._input import Sent
    from ._read import ReadStream

PROG = "tmuxagent"


class Opt:
    """An option: ``kind`` is 'flag', 'str', 'regex' (a str to wait for),
    'list' (repeatable), 'int' or 'float'.

    Numbers must be 0 or more (and finite); ``positive`` refuses 0 as well.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        help: str,
        metavar: str = "",
        default: Any = None,
        *,
        positive: bool = False,
        short: str = "",
        dest: str = "",
    ) -> None:
        self.name = name
        self.short = short
        self.dest = dest or name.lstrip("-").replace("-", "_")
        self.kind = kind
        self.help = help
        self.metavar = metavar or ("" if kind == "flag" else kind.upper())
        self.default = False if kind == "flag" else default
        self.positive = positive

    def label(self) -> str:
        names = f"{self.short}, {self.name}" if self.short else self.name
        return f"{names} {self.metavar}".rstrip()


class Verb:
    """A verb: positionals as (dest, METAVAR, nargs), nargs one of 1 ? * +.

    ``output``: what it prints is its answer, so it does nothing when stdout
    is closed (see :func:`check_open`).
    """

    def __init__(
        self,
        name: str,
        func: Callable[[Args], int] | str,
        help: str,
        positionals: Sequence[tuple[str, str, str | int]] = (),
        options: Sequence[Opt] = (),
        usage: str = "",
        *,
        output: bool = False,
    ) -> None:
        self.name = name
        self.output = output
        self.func = func  # or "module:function", imported when the verb runs
        self.help = help
        self.positionals = positionals
        self.options = {o.name: o for o in options}
        self.usage = usage

    def call(self, args: Args) -> int:
        func = self.func
        if isinstance(func, str):
            from importlib import import_module

            module, _, name = func.partition(":")
            func = getattr(import_module(f"tmuxagent.{module}"), name)
        return func(args)

    def usage_line(self) -> str:
        if self.usage:
            return f"usage: {PROG} {self.name} {self.usage}"
        words = []
        for _, metavar, nargs in self.positionals:
            words.append({1: metavar, "?": f"[{metavar}]", "*": f"[{metavar}...]"}.get(
                nargs, f"{metavar}..."
            ))  # fmt: skip
        words += [f"[{opt.label()}]" for opt in self.options.values()]
        return f"usage: {PROG} {self.name} {' '.join(words)}"

    def help_text(self) -> str:
        lines = [self.usage_line(), "", self.help]
        if self.options:
            lines += ["", *option_lines(self.options.values())]
        return "\n".join(lines)


def option_lines(options: Iterable[Opt]) -> list[str]:
    """Options and their help, aligned, for ``--help``."""
    chosen = list(options)
    width = max(len(o.label()) for o in chosen)
    return [f"  {o.label():<{width}}  {o.help}" for o in chosen]


#: Options that come before the verb.
GLOBAL_OPTIONS = (
    Opt("--socket", "str", "the tmux server to use", "PATH", short="-S"),
    Opt("--host", "str", "run on HOST over ssh: [user@]host[:port] (default $TMUXAGENT_HOST)",
        "HOST", short="-H"),
    Opt("--tmux-timeout", "float", f"seconds one tmux call may take (default {TMUX_TIMEOUT:g})",
        "S", TMUX_TIMEOUT,
        positive=True),
)  # fmt: skip


class Args:
    """Parsed arguments: attributes named after options and positionals."""

    socket: str | None
    host: str | None
    tmux_timeout: float
    #: The words from the verb on, as given.
    verb_argv: list[str]
    verb: str

    def __getattr__(self, name: str) -> Any:  # only for attributes set by the parser
        raise AttributeError(name)


class Exit(Exception):
    """Stop with ``code``, printing ``message`` (on stdout when the code is 0)."""

    def __init__(self, code: int, message: str = "") -> None:
        self.code = code
        self.message = message


def fail(verb: str | None, message: str) -> Exit:
    where = f"{PROG} {verb}" if verb else PROG
    return Exit(2, f"{where}: error: {message} (see '{where} --help')")


#: The largest number an option takes (seconds, lines, characters).
_MOST = 1e9 - 1


def convert(verb: str | None, opt: Opt, value: str, typed: str = "") -> Any:
    """An option's value, checked: never empty; a number for 'int' and 'float'
    options, written in ASCII digits (a float may have a point and an
    exponent), 0 or more and finite: no sign, NaN, infinity, hex or
    underscores, which Python's own int() and float() would take."""
    name = typed or opt.name
    if not value:
        raise fail(verb, f"{name} needs a {opt.metavar}, not an empty string")
    if opt.kind in ("str", "list"):
        return value
    if opt.kind == "regex":
        return _regex(verb, name, value)
    what = "a whole number" if opt.kind == "int" else "a number"
    if value.startswith("-") and _is_number(opt.kind, value[1:]):
        raise fail(verb, f"{name} wants {what} from 0 up, not {shown(value)}")
    if not _is_number(opt.kind, value):
        raise fail(verb, f"{name} wants {what}, not {shown(value)}")
    # int() refuses more than 4300 digits (ValueError); float() makes them inf.
    if opt.kind == "float":
        number: float = float(value)
    else:
        number = int(value) if len(value.lstrip("0")) < 12 else _MOST + 1
    if number > _MOST:
        raise fail(verb, f"{name} {shown(value)} is too large (at most {_MOST:.0f})")
    if opt.positive and number == 0:
        raise fail(verb, f"{name} wants a number above 0, not {shown(value)}")
    return number


def _regex(verb: str | None, name: str, value: str) -> str:
    """A pattern to wait for: a regex, and one that needs some text to match
    ('foo|', '^' or 'x?' would match at once, anywhere)."""
    import re

    try:
        found = re.compile(value, re.MULTILINE).search("\0")
    except (re.error, OverflowError, RecursionError):
        return value  # the library says what is wrong with it
    if found is not None and not found.group():
        raise fail(verb, f"{name} {shown(value)} matches where there is no text, so it would "
                         "match at once; give it some text to wait for")  # fmt: skip
    return value


def _is_number(kind: str, text: str) -> bool:
    """Whether ``text`` is an unsigned number in ASCII: digits for 'int';
    for 'float' also a decimal point and an exponent (``1.5``, ``.5``, ``2e3``)."""
    if not text.isascii():
        return False
    if kind == "int":
        return text.isdigit()
    mantissa, e, exponent = text.lower().partition("e")
    whole, _, part = mantissa.partition(".")
    if exponent[:1] in ("+", "-"):
        exponent = exponent[1:]
    return (whole + part).isdigit() and (exponent.isdigit() or not e)


def _looks_like_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse(
    argv: Sequence[str], verbs: Mapping[str, Verb], main_help: Callable[[], str], version: str
) -> tuple[Verb, Args]:
    """Read ``argv`` (without the program's name) against ``verbs``."""
    args = Args()
    by_name: dict[str, Opt] = {}
    for opt in GLOBAL_OPTIONS:
        setattr(args, opt.dest, opt.default)
        by_name[opt.name] = opt
        if opt.short:
            by_name[opt.short] = opt
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        token = argv[i]
        name, eq, value = token.partition("=")
        if token in ("-h", "--help"):
            raise Exit(0, main_help())
        if token == "--version":
            raise Exit(0, f"{PROG} {version}")
        found = by_name.get(name)
        if found is None:
            raise fail(None, f"unknown option {shown(token)}")
        if not eq:
            i += 1
            if i >= len(argv):
                raise fail(None, f"{name} needs a value")
            value = argv[i]
        setattr(args, found.dest, convert(None, found, value, name))
        i += 1
    if i >= len(argv):
        raise fail(None, "no verb given")
    verb = verbs.get(argv[i])
    if verb is None:
        raise fail(None, f"unknown verb {shown(argv[i])}; one of: {', '.join(verbs)}")
    args.verb = verb.name
    args.verb_argv = list(argv[i:])
    for opt in verb.options.values():
        setattr(args, opt.dest, [] if opt.kind == "list" else opt.default)
    words: list[str] = []
    tokens = argv[i + 1 :]
    j = 0
    while j < len(tokens):
        token = tokens[j]
        if token == "--":
            words.extend(tokens[j + 1 :])
            break
        if token in ("-h", "--help"):
            raise Exit(0, verb.help_text())
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            found = verb.options.get(name)
            if found is None:
                raise fail(verb.name, f"unknown option {shown(name)}")
            opt = found
            if opt.kind == "flag":
                if eq:
                    raise fail(verb.name, f"{name} takes no value")
                setattr(args, opt.dest, True)
            else:
                if not eq:
                    j += 1
                    if j >= len(tokens):
                        raise fail(verb.name, f"{name} needs a value")
                    value = tokens[j]
                converted = convert(verb.name, opt, value, name)
                if opt.kind == "list":
                    getattr(args, opt.dest).append(converted)
                else:
                    setattr(args, opt.dest, converted)
        elif token.startswith("-") and token != "-" and not _looks_like_number(token):
            raise fail(verb.name, f"unknown option {shown(token)}; quote text, or put it after --")
        else:
            words.append(token)
        j += 1
    _assign(verb, args, words)
    return verb, args


def _assign(verb: Verb, args: Args, words: list[str]) -> None:
    specs = list(verb.positionals)
    for n, (dest, metavar, nargs) in enumerate(specs):
        after = sum(1 for _, _, k in specs[n + 1 :] if k in (1, "+"))
        if nargs == 1:
            if not words:
                raise fail(verb.name, f"{metavar} is missing")
            setattr(args, dest, words.pop(0))
        elif nargs == "?":
            setattr(args, dest, words.pop(0) if len(words) > after else None)
        else:
            take = len(words) - after
            if nargs == "+" and take < 1:
                raise fail(verb.name, f"{metavar} is missing")
            setattr(args, dest, words[:take])
            del words[:take]
    if words:
        raise fail(verb.name, f"unexpected {' '.join(shown(w) for w in words[:3])}; quote TEXT")


def env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """--env's KEY=VALUE pairs as a mapping."""
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env wants KEY=VALUE, got {shown(pair)}")
        env[key] = value
    return env


# -- output ---------------------------------------------------------------------


def print_text(text: str) -> None:
    """``text`` on stdout, as a line."""
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


#: C0 and C1 control characters and DEL, as Python writes them in a repr.
ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
ESCAPES.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
#: What JSON leaves raw with ensure_ascii=False: DEL and the C1 controls.
JSON_ESCAPES = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def visible(value: object) -> str:
    """A value that programs choose (a directory, a command, a message), shown
    in text output: its control characters escaped, so that the terminal
    reading it cannot obey them (set its title, colour, forge lines)."""
    return str(value).translate(ESCAPES)


def dump_json(data: Any) -> str:
    """JSON text with DEL and C1 escaped as well (they can only be in strings)."""
    import json

    text = json.dumps(data, ensure_ascii=False)
    return text if text.isascii() and "\x7f" not in text else text.translate(JSON_ESCAPES)


def print_json(data: Any) -> None:
    sys.stdout.write(dump_json(data) + "\n")


def print_result(output: str, exit_code: int | None = None) -> None:
    """A command's output on stdout; its exit status, when not 0, on stderr."""
    if output:
        print_text(output)
    if exit_code:
        sys.stderr.write(f"[exit status {exit_code}]\n")


def step_json(name: str | None, sent: Sent) -> dict[str, Any]:
    """What ``send``, ``paste`` or ``keys`` did, and what its wait saw, for
    --json (only the latter without ``name``: ``start``'s wait)."""
    data: dict[str, Any] = {}
    if name is not None:
        data = {"name": name, "enter": sent.enter, "retried": sent.retried}
    if sent.output is not None:
        data["output"] = sent.output
    if sent.match is not None:
        data["match"] = sent.match.group()
    if sent.exit_code is not None:
        data["exit_code"] = sent.exit_code
    return data


def plain(key: str, value: object) -> str:
    """A status value for people: yes/no, '-' for nothing, signal names."""
    if key == "signal" and isinstance(value, int):
        from .errors import signal_name

        return signal_name(value) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None else str(value)


def deliver(stream: ReadStream) -> None:
    """Write ``stream``'s pieces to stdout; mark as delivered those that got
    there (OSError, after marking, when one did not)."""
    check_open()
    out = sys.stdout
    out.flush()
    errors = "replace" if out.errors in (None, "strict") else out.errors
    count = 0
    try:
        for text in stream:
            data = memoryview(text.encode(out.encoding or "utf-8", errors))
            while data:
                data = data[os.write(1, data) :]
            count += 1
    except OSError as exc:
        if not isinstance(exc, BrokenPipeError):  # the reader quit: what it took is unknown
            stream.delivered(count)
        raise
    stream.delivered(count)


def check_open() -> None:
    """UsageError if stdout was closed when the CLI started: a verb whose
    output is its answer does nothing rather than lose it."""
    if 1 in _CLOSED:
        raise UsageError(
            "standard output is closed, so the output would be lost: nothing was done "
            "(to throw it away, send it to /dev/null)"
        )


def read_input(source: str) -> str:
    """The text of the file ``source``, or of stdin for '-' (UsageError if it
    cannot be read, or stdin was closed when the CLI started)."""
    if source == "-" and 0 in _CLOSED:
        raise UsageError("standard input is closed: nothing was pasted (give a FILE, or pipe text)")
    try:  # fd 0 for stdin, left open
        with open(0 if source == "-" else source, "rb", closefd=source != "-") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {shown(source)}: {exc.strerror}") from None
    return data.decode("utf-8", "surrogateescape")


#: The standard descriptors that were closed when the CLI started (each now holds /dev/null).
_CLOSED: set[int] = set()


def guard_standard_fds() -> None:
    """Put /dev/null on a closed stdin, stdout or stderr: else the next file
    opened gets its number, and output meant for stdout would go into it."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:  # the lowest free number: fd itself, unless a lower one is free too
                os.dup2(null, fd)
                os.close(null)
            _CLOSED.add(fd)
    # Python leaves sys.stdin/stdout/stderr None for a descriptor closed at start.
    for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115
