"""Named keys, as tmux spells them, checked before anything is sent.

``tmux send-keys`` types a word it does not know as text (``Entr`` arrives as
four letters), and silently drops keys it cannot encode for a plain terminal
(``C-Enter``, ``C-1``). :func:`validate_key` accepts exactly what tmux 3.3a
sends as a key (case-insensitively, as tmux reads names), measured against a
program reading the terminal raw:

- any single character, and the named keys below;
- ``M-`` (Alt) before any of those;
- ``C-`` (Ctrl, or ``^``) before a letter, one of ``@ [ \\ ] ^ _ ?``, or Space;
- ``C-`` and ``S-`` (Shift) before the cursor, editing and function keys.
  Shift-Tab is ``BTab``.
"""

from __future__ import annotations

from .errors import UsageError, shown

_MODIFIABLE = (
    "Up", "Down", "Left", "Right", "Home", "End", "IC", "Insert", "DC", "Delete",
    "PageUp", "PgUp", "PPage", "PageDown", "PgDn", "NPage",
    *(f"F{i}" for i in range(1, 13)),
)  # fmt: skip
_NAMED = {
    name.lower(): name
    for name in (
        *_MODIFIABLE,
        "Enter", "Escape", "Tab", "BTab", "Space", "BSpace",
        "KP/", "KP*", "KP-", "KP+", "KP.", "KPEnter",
        *(f"KP{i}" for i in range(10)),
    )
}  # fmt: skip
_WITH_CTRL_OR_SHIFT = {name.lower() for name in _MODIFIABLE}
_CTRL_CHARS = set("abcdefghijklmnopqrstuvwxyz@[\\]^_?")

#: The key names shown in error messages and help.
COMMON_KEYS = (
    "Enter Escape Tab BTab (Shift-Tab) BSpace Space Up Down Left Right Home End "
    "PageUp PageDown Insert Delete F1..F12, C-c, M-x, C-Up, S-Left"
)


def _refuse(key: str, why: str) -> UsageError:
    return UsageError(f"cannot send {shown(key)}: {why}; keys are tmux key names ({COMMON_KEYS})")


def validate_key(key: str) -> str:
    """Return tmux's spelling of ``key``, or raise UsageError."""
    if not isinstance(key, str):
        raise UsageError(f"a key is a string such as 'Enter' or 'C-c', not {shown(key)}")
    if key == "":
        raise UsageError("empty key name")
    rest = key
    mods: list[str] = []
    while True:
        if len(rest) > 2 and rest[:2].upper() in ("C-", "M-", "S-"):
            mods.append(rest[0].upper())
            rest = rest[2:]
        elif len(rest) == 2 and rest[0] == "^":
            mods.append("C")
            rest = rest[1:]
        else:
            break
    prefix = "".join(f"{m}-" for m in mods)
    if len(rest) == 1 and rest.isprintable():
        if "S" in mods:
            raise _refuse(key, "tmux has no Shift with characters (send the character itself)")
        if "C" in mods:
            if rest.lower() not in _CTRL_CHARS:
                raise _refuse(key, "a terminal has no Ctrl with that character")
            return prefix + rest.lower()
        return prefix + rest
    named = _NAMED.get(rest.lower())
    if named is None:
        raise _refuse(key, "unknown key name ('tmuxagent send' types text)")
    ctrl_space = mods == ["C"] and named == "Space"
    if ("C" in mods or "S" in mods) and named.lower() not in _WITH_CTRL_OR_SHIFT and not ctrl_space:
        hint = " (Shift-Tab is BTab)" if named == "Tab" and "S" in mods else ""
        raise _refuse(key, f"a terminal cannot send Ctrl or Shift with {named}{hint}")
    return prefix + named


def validate_keys(keys: list[str] | tuple[str, ...]) -> list[str]:
    if not keys:
        raise UsageError("no keys given; e.g. 'tmuxagent keys NAME C-c' or '... Enter'")
    return [validate_key(k) for k in keys]
