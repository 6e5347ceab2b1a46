"""Values of the Python API as JSON, for calls to a remote host.

Only plain data crosses: JSON's own types, tuples, bytes, paths, the
records tmuxagent returns (:class:`~._records.Struct` subclasses, by name),
regular-expression matches (as :class:`Match`, a copy) and tmuxagent's
errors (by name). Decoding makes nothing else: a hostile host can send
wrong answers, never code to run (unlike pickle).
"""

from __future__ import annotations

import base64
from pathlib import Path

from . import errors
from ._records import Capture, RunResult, SessionInfo, Struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Any


_Fields = list[tuple[str, tuple[type, ...]]]
_RECORDS: dict[str, tuple[type[Struct], _Fields]] = {}

#: A field's annotation -> the types its value may have (exactly: no bool for int).
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "bool": (bool,), "float": (float, int), "None": (type(None),),
    "tuple[int, ...]": (tuple,), "Match": (),  # (Match is defined below)
}  # fmt: skip
#: Fields set outside ``__init__``.
_LATER = {"output": "str | None", "match": "Match | None", "exit_code": "int | None"}


def _record_type(name: str) -> tuple[type[Struct], _Fields]:
    """A record class by name, with each field's allowed types (from its
    ``__init__``'s annotations)."""
    if not _RECORDS:
        from ._input import Sent
        from ._states import State

        found = {}
        for cls in (Capture, RunResult, SessionInfo, Sent, State):
            notes = _LATER | cls.__init__.__annotations__
            found[cls.__name__] = (cls, [(f, sum((_TYPES[t] for t in notes[f].split(" | ")), ()))
                                         for f in cls.__slots__])  # fmt: skip
        _RECORDS.update(found)  # at once: another thread may be looking
    if name not in _RECORDS:
        raise ValueError(f"unknown record {name!r}")
    return _RECORDS[name]


class Match:
    """What a wait matched, copied from the host: ``group()``, ``groups()``,
    ``groupdict()``, ``start()``, ``end()``, ``span()`` and ``string`` as on
    :class:`re.Match`."""

    def __init__(self, string: str, spans: list[tuple[int, int]], names: dict[str, int]):
        self.string, self._spans, self._names = string, spans, names

    @classmethod
    def of(cls, match: re.Match[str]) -> Match:
        spans = [match.span(i) for i in range(len(match.groups()) + 1)]
        return cls(match.string, spans, dict(match.re.groupindex))

    def _index(self, group: int | str) -> int:
        return self._names[group] if isinstance(group, str) else group

    def group(self, *groups: int | str) -> Any:
        found = [self[g] for g in groups or (0,)]
        return found[0] if len(found) == 1 else tuple(found)

    def __getitem__(self, group: int | str) -> str | None:
        start, end = self._spans[self._index(group)]
        return None if start < 0 else self.string[start:end]

    def groups(self, default: str | None = None) -> tuple[str | None, ...]:
        found = (self[i] for i in range(1, len(self._spans)))
        return tuple(default if g is None else g for g in found)

    def groupdict(self, default: str | None = None) -> dict[str, str | None]:
        return {n: default if self[n] is None else self[n] for n in self._names}

    def span(self, group: int | str = 0) -> tuple[int, int]:
        return self._spans[self._index(group)]

    def start(self, group: int | str = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        return self.span(group)[1]

    def __repr__(self) -> str:
        return f"<Match span={self.span()!r} match={self.group()!r}>"


_TYPES["Match"] = (Match,)


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"~t": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"~d": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, bytes):
        return {"~b": base64.b64encode(value).decode()}
    if isinstance(value, Path):
        return {"~p": str(value)}
    if isinstance(value, Struct):  # its fields in order
        fields = [encode(getattr(value, name)) for name in value.__slots__]
        return {"~r": type(value).__name__, "f": fields}
    if isinstance(value, Match):
        return {"~m": [value.string, value._spans, value._names]}
    if hasattr(value, "re") and hasattr(value, "span"):  # re.Match
        return encode(Match.of(value))
    if hasattr(value, "pattern") and hasattr(value, "flags"):  # re.Pattern
        return {"~re": [value.pattern, value.flags]}
    raise TypeError(f"cannot send a {type(value).__name__} to or from a host")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "~t" in value:
        return tuple(decode(v) for v in value["~t"])
    if "~d" in value:
        return {decode(k): decode(v) for k, v in value["~d"]}
    if "~b" in value:
        return base64.b64decode(value["~b"])
    if "~p" in value:
        return Path(value["~p"])
    if "~re" in value:
        import re

        pattern, flags = value["~re"]  # of flags, only those that change what matches
        return re.compile(str(pattern), int(flags) & (re.I | re.M | re.S | re.X | re.A | re.U))
    if "~m" in value:
        string, spans, names = value["~m"]
        return Match(str(string), [(int(a), int(b)) for a, b in spans],
                     {str(k): int(v) for k, v in names.items()})  # fmt: skip
    if "~r" in value:
        cls, fields = _record_type(str(value["~r"]))
        values = value["f"]
        if not isinstance(values, list) or len(values) != len(fields):
            raise ValueError(f"a {cls.__name__} of {len(values)} fields")
        record = cls.__new__(cls)
        for (name, types), raw in zip(fields, values, strict=True):
            item = decode(raw) if isinstance(raw, (list, dict)) else raw
            if type(item) not in types or (type(item) is tuple and not _ints(item)):
                raise ValueError(f"{cls.__name__}.{name} as a {type(item).__name__}")
            setattr(record, name, item)
        return record
    raise ValueError("not a value of tmuxagent's")


def _ints(items: tuple[Any, ...]) -> bool:
    return all(type(i) is int for i in items)


def encode_error(exc: errors.TmuxAgentError) -> dict[str, Any]:
    attrs = {}
    for key, value in vars(exc).items():
        try:
            attrs[key] = encode(value)
        except TypeError:
            pass
    return {"type": type(exc).__name__, "message": str(exc), "attrs": attrs}


def decode_error(data: dict[str, Any], host: str) -> errors.TmuxAgentError:
    """The error the host raised, as the same class (a TmuxError if unknown)."""
    cls = getattr(errors, str(data.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.TmuxAgentError)):
        return errors.TmuxError(f"{host}: {data.get('message')}")
    exc = cls.__new__(cls)
    Exception.__init__(exc, str(data.get("message")))
    for name, value in dict(data.get("attrs") or {}).items():
        key = str(name)
        if key.startswith("_") or key in ("args", "exit_code") or callable(getattr(cls, key, None)):
            continue  # data only: no method, no dunder, nothing the class defines as code
        try:
            setattr(exc, key, decode(value))
        except Exception:  # a value it cannot be: left out
            pass
    return exc
