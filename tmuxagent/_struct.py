"""A small record type: what NamedTuple gives, without importing typing.

The CLI starts once per agent step; ``typing`` (and the ``re`` it pulls in)
would cost more than a whole tmux round trip. Subclasses list their fields
in ``__slots__`` and write a typed ``__init__``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Struct:
    __slots__: tuple[str, ...] = ()

    def _asdict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._asdict().items())
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._asdict() == other._asdict()

    __hash__ = None  # type: ignore[assignment]
