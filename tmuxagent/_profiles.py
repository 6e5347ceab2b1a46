"""Profiles: what a kind of program's screen means, as data (TOML).

Each file in ``tmuxagent/profiles/`` (built in) and in
``${XDG_CONFIG_HOME:-~/.config}/tmuxagent/profiles/`` (yours) is one profile::

    name = "python"                      # a user file of the same name replaces it
    description = "Python's REPL"
    programs = ["python", "python3*"]    # shell-style patterns; "*": any program
    identify = ['^>>> ']                 # or, if no profile names the program: any of these
                                         # on the screen (its last 30 rows) or in the title
    priority = 30                        # higher first (agent CLIs 100, questions 50, shells 10)
    enabled = true                       # false: switch a built-in profile off

    [[rule]]                             # the first rule that holds decides
    state = "ready"                      # working | ready | asking | idle
    match = '^(>>>|\\.\\.\\.)( |$)'      # a regular expression (Python's, ^ and $ at each row)
    region = "cursor"                    # on: screen | bottom:N (rows) | cursor (its row) | title
    detail = "{0}"                       # {0} the match, {1}.. its groups, {line} its first row,
                                         # {program}, {current}
    quiet = 0.2                          # the program has not written for this many seconds
    active = 1.0                         # ... or has, within this many
    reading = true                       # it waits for input (a read of its terminal, or poll)
    echo = false                         # the terminal does not echo typing (a password)
    alternate = true                     # it shows a full screen of its own (a TUI, a pager)
    running = true                       # the terminal's foreground process is not the program
    progress = true                      # its last progress report (OSC 9;4) says busy
    unless = 'esc to interrupt'          # and this is nowhere in the region

A profile applies when the session's program (or the terminal's foreground
process) matches ``programs``, or when ``identify`` is found. Rules of the
profiles that apply are tried in order of priority, then of the file.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat

from .errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._states import Look

BUILT_IN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profiles")
_RULE_KEYS = {"state", "match", "region", "detail", "quiet", "active", "reading", "echo",
              "alternate", "running", "progress", "unless", "source"}  # fmt: skip
_PROFILE_KEYS = {"name", "description", "programs", "identify", "priority", "enabled", "rule",
                 "source"}  # fmt: skip
#: Rows of the screen's bottom that ``identify`` looks at.
IDENTIFY_ROWS = 30
#: The profiles read, by their directories and those directories' times:
#: a process that looks often (events, the dashboard) reads them once.
_loaded: dict[tuple[tuple[str, int, int, int, int], ...], list[Profile]] = {}


def user_dir() -> str:
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config, "tmuxagent", "profiles")


class Rule:
    """One rule of a profile (see the module's docstring)."""

    def __init__(self, data: dict[str, Any], where: str, *, check: bool = True) -> None:
        from ._states import STATES

        if not isinstance(data, dict):
            raise UsageError(f"{where}: a rule must be a table ([[rule]] and its keys)")
        unknown = set(data) - _RULE_KEYS
        if unknown:
            raise UsageError(f"{where}: unknown key {sorted(unknown)[0]!r} in a rule")
        state = data.get("state")
        if state not in STATES[:4]:
            raise UsageError(f"{where}: a rule's state must be one of {', '.join(STATES[:4])}")
        self.state: str = state
        self.region = str(data.get("region", "bottom:10"))
        self._rows_wanted = _region(self.region, where)
        self.pattern = _compile(data.get("match"), where, check) if "match" in data else None
        self.unless = _compile(data.get("unless"), where, check) if "unless" in data else None
        self.detail = str(data.get("detail", "{0}"))
        self.quiet = _number(data, "quiet", where)
        self.active = _number(data, "active", where)
        self.reading = _flag(data, "reading", where)
        self.echo = _flag(data, "echo", where)
        self.alternate = _flag(data, "alternate", where)
        self.running = _flag(data, "running", where)
        self.progress = _flag(data, "progress", where)

    def describe(self) -> str:
        parts = [f"state={self.state}"]
        if self.pattern is not None:
            parts.append(f"match={self.pattern.pattern!r} in {self.region}")
        for key in ("unless",):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={value.pattern!r}")
        for key in ("quiet", "active", "reading", "echo", "alternate", "running", "progress"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={str(value).lower()}")
        return " ".join(parts)

    def holds(self, look: Look) -> tuple[str, tuple[int, ...]] | None:
        """(detail, rows matched) when the rule holds, else None."""
        if self._conditions_fail(look):
            return None
        first, text = self._region_text(look)
        if self.unless is not None and self.unless.search(text):
            return None
        if self.pattern is None:
            return self._fill(None, "", look), ()
        found = self.pattern.search(text)
        if found is None:
            return None
        start = found.start()
        while start < found.end() - 1 and text[start] == "\n":  # a \s* that began a row early
            start += 1
        top = text.count("\n", 0, start)
        bottom = top + text.count("\n", start, max(start, found.end() - 1))
        line = text.split("\n")[top]
        rows = tuple(range(first + top, first + bottom + 1)) if first >= 0 else ()
        return self._fill(found, line, look), rows

    def missed(self, look: Look) -> str:
        """Why the rule does not hold, in a few words (for ``explain``)."""
        failed = self._conditions_fail(look)
        if failed:
            return f"no: {failed}"
        if self.unless is not None and self.unless.search(self._region_text(look)[1]):
            return "no: its 'unless' is there"
        return f"no: no match in {self.region}"

    def _conditions_fail(self, look: Look) -> str:
        if self.quiet is not None and look.quiet < self.quiet:
            return f"output {look.quiet:.1f}s ago (quiet needs {self.quiet}s)"
        if self.active is not None and look.quiet > self.active:
            return f"no output for {look.quiet:.1f}s (active needs {self.active}s)"
        for key in ("reading", "echo", "alternate", "running", "progress"):
            wanted, seen = getattr(self, key), getattr(look, key)
            # Where a terminal cannot be looked into, reading and echo are
            # not known (None): a rule does not fail on them.
            if wanted is not None and seen is not wanted:
                if seen is None and key in ("reading", "echo"):
                    continue
                return f"{key} is {seen}"
        return ""

    def _region_text(self, look: Look) -> tuple[int, str]:
        """The region's rows as one text (a row a line), and its first row's
        number (-1: the title)."""
        kind, count = self._rows_wanted
        if kind == "title":
            return -1, look.title
        if kind == "cursor":
            row = look.cursor_y
            return (row, look.rows[row]) if 0 <= row < len(look.rows) else (row, "")
        end = len(look.rows)
        while end and not look.rows[end - 1].strip():
            end -= 1
        start = 0 if kind == "screen" else max(0, end - count)
        return start, "\n".join(look.rows[start:end])

    def _fill(self, found: re.Match[str] | None, line: str, look: Look) -> str:
        def part(m: re.Match[str]) -> str:
            key = m.group(1)
            if key == "line":
                return line.strip()
            if key in ("program", "current"):
                return str(getattr(look, key))
            if found is None or int(key) > found.re.groups:
                return ""
            return found.group(int(key)) or ""

        text = re.sub(r"\{(line|program|current|\d)\}", part, self.detail)
        return " ".join(text.split())[:100]


class Profile:
    """A kind of program, and its rules (see the module's docstring)."""

    def __init__(self, data: dict[str, Any], path: str, *, check: bool = True) -> None:
        """``check``: compile the patterns now, to name a bad one (not for
        contents from the cache, which were checked when it was made)."""
        unknown = set(data) - _PROFILE_KEYS
        if unknown:
            raise UsageError(f"profile {path}: unknown key {sorted(unknown)[0]!r}")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise UsageError(f"profile {path}: 'name' is missing")
        self.name = name
        self.path = path
        self.description = str(data.get("description", ""))
        self.enabled = _flag(data, "enabled", path) is not False
        self.programs = [str(p) for p in _list(data, "programs", path)]
        self.identify = [_compile(p, path, check) for p in _list(data, "identify", path)]
        priority = data.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise UsageError(f"profile {path}: 'priority' must be a whole number")
        self.priority = priority
        rules = data.get("rule", [])
        if not isinstance(rules, list):
            raise UsageError(f"profile {path}: 'rule' must be an array of tables ([[rule]])")
        self.rules = [
            Rule(r, f"profile {path}, rule {i + 1}", check=check) for i, r in enumerate(rules)
        ]

    def names(self, look: Look) -> str | None:
        """Why this profile is the program's own, by name (None: it is not)."""
        for pattern in self.programs:
            for name, what in ((look.program, "program"), (look.current, "foreground process")):
                if pattern != "*" and name and fnmatch.fnmatchcase(name, pattern):
                    return f"{what} {name!r} is {pattern!r}"
        return None

    def why_applies(self, look: Look, named: bool) -> str | None:
        """Why the profile applies (None: it does not). ``named``: some
        profile is the program's own (see :func:`named`); then ``identify``
        does not count."""
        if "*" in self.programs:
            return "every program"
        by_name = self.names(look)
        if by_name is not None or named:
            return by_name
        text = "\n".join((look.title, *look.rows[-IDENTIFY_ROWS:]))
        for sign in self.identify:
            if sign.search(text):
                return f"{sign.pattern!r} is on the screen"
        return None


def named(look: Look, profiles: list[Profile]) -> bool:
    """Whether a profile is the program's own, by its name, while it waits
    for typing: then the screen is its own (a shell at its prompt showing a
    note that quotes an agent's dialog is a shell at its prompt). Else what
    runs may be another program (a pipeline's pager) that the screen tells."""
    return look.reading is True and any(p.names(look) is not None for p in profiles)


def load(directories: list[str] | None = None) -> list[Profile]:
    """The profiles in force: the built-in ones, each replaced by a user's
    profile of the same name, highest priority first (then by name).

    The files' contents are kept in a cache (JSON, in
    ``${XDG_CACHE_HOME:-~/.cache}/tmuxagent``) while no file changes: reading
    TOML costs a CLI call some 20 ms, JSON 1."""
    dirs = directories if directories is not None else [BUILT_IN, user_dir()]
    files: list[tuple[str, int, int, int, int]] = []
    for directory in dirs:
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".toml"))
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):  # a FIFO would block the reading
                raise UsageError(f"profile {path}: not a regular file")
            # A file rewritten with its size and time kept (cp -p) has another inode or ctime.
            files.append((path, st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns))
    key = tuple(files)
    cached = _loaded.get(key)
    if cached is not None:
        return cached
    contents = _from_cache(files)
    fresh = contents is None
    if contents is None:
        contents = [_read(path) for path, *_ in files]
    found = [
        Profile(data, path, check=fresh) for (path, *_), data in zip(files, contents, strict=True)
    ]
    if fresh:  # every file read and checked
        _to_cache(files, contents)
    by_name = {p.name: p for p in found}  # a later directory's replaces an earlier one's
    profiles = sorted(
        (p for p in by_name.values() if p.enabled), key=lambda p: (-p.priority, p.name)
    )
    _loaded.clear()  # the files changed: the old set will not be asked for again
    _loaded[key] = profiles
    return profiles


def warm() -> None:
    """Load the profiles and compile all their patterns: for a process that
    forks for each call (the host's server), so no call does it again."""
    for profile in load():
        for pattern in [*profile.identify, *(p for r in profile.rules
                                             for p in (r.pattern, r.unless) if p)]:  # fmt: skip
            pattern.search("")


def _cache_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tmuxagent", "profiles.json")


def _from_cache(files: list[tuple[str, int, int, int, int]]) -> list[dict[str, Any]] | None:
    """The files' contents as the cache kept them, if it is the user's own
    (in a private directory: another user's could hold rules of theirs)."""
    import json

    from ._files import owned_lstat, unsafe_path

    path = _cache_path()
    try:
        folder = owned_lstat(os.path.dirname(path))
        if folder.st_uid != os.geteuid() or folder.st_mode & 0o077:
            return None
        if unsafe_path(os.path.dirname(path)):
            return None
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_uid != os.geteuid():
                return None
            cache = json.load(f)
        if [tuple(entry) for entry in cache["files"]] == files:
            contents = cache["contents"]
            if isinstance(contents, list) and all(isinstance(c, dict) for c in contents):
                return contents
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _to_cache(files: list[tuple[str, int, int, int, int]], contents: list[dict[str, Any]]) -> None:
    """Keep the files' contents for the next call, if it can be done safely
    (in a directory of the user's own, 0700; never through a link)."""
    import json

    from ._files import replace_file, secure_dir
    from .errors import TmuxAgentError

    path = _cache_path()
    try:
        data = json.dumps({"files": files, "contents": contents}).encode()
        secure_dir(os.path.dirname(path), what="cache directory")
        replace_file(path, data)
    except (OSError, TypeError, ValueError, TmuxAgentError):
        pass  # a TOML date, a read-only home, a full disk: read the files next time too


def _read(path: str) -> dict[str, Any]:
    import tomllib

    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"profile {path}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"profile {path}: {exc.strerror}") from None


class _Pattern:
    """A rule's regular expression, compiled when first used: a process
    looks at a few programs, and most profiles never apply to them."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, re.MULTILINE)
        return self._compiled.search(text)


def _compile(value: object, where: str, check: bool) -> _Pattern:
    if not isinstance(value, str):
        raise UsageError(f"{where}: a pattern must be a string")
    if check:
        try:
            re.compile(value, re.MULTILINE)
        except re.error as exc:
            raise UsageError(f"{where}: bad regular expression {value!r}: {exc}") from None
    return _Pattern(value)


def _region(value: str, where: str) -> tuple[str, int]:
    kind, _, count = value.partition(":")
    if kind in ("screen", "cursor", "title") and not count:
        return kind, 0
    if kind == "bottom" and count.isdigit() and 0 < int(count) <= 1000:
        return kind, int(count)
    raise UsageError(f"{where}: region must be screen, bottom:N, cursor or title, not {value!r}")


def _number(data: dict[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise UsageError(f"{where}: {key!r} must be a number of seconds")
    return float(value)


def _flag(data: dict[str, Any], key: str, where: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise UsageError(f"{where}: {key!r} must be true or false")
    return value


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise UsageError(f"profile {where}: {key!r} must be a list")
    return value
