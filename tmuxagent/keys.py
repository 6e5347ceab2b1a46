"""Named keys, as tmux spells them, checked before anything is sent.

``tmux send-keys`` types any word it does not know as text, so a typo such as
``Entr`` would arrive as five letters. :func:`validate_key` accepts exactly
the names tmux understands (case-insensitively, as tmux does), optionally
prefixed by modifiers (``C-``, ``M-``, ``S-``, or ``^`` for control), and
any single character.
"""

from __future__ import annotations

from .errors import UsageError

_NAMED = {
    name.lower(): name
    for name in (
        "Enter", "Escape", "Tab", "BTab", "Space", "BSpace",
        "Up", "Down", "Left", "Right",
        "Home", "End", "IC", "Insert", "DC", "Delete",
        "PageUp", "PgUp", "PPage", "PageDown", "PgDn", "NPage",
        *(f"F{i}" for i in range(1, 13)),
        "KP/", "KP*", "KP-", "KP+", "KP.", "KPEnter",
        *(f"KP{i}" for i in range(10)),
    )
}  # fmt: skip

_MODIFIERS = ("C-", "M-", "S-")

#: The key names shown in error messages and help.
COMMON_KEYS = (
    "Enter Escape Tab BTab BSpace Space Up Down Left Right Home End "
    "PageUp PageDown Insert Delete F1..F12, C-c, M-x, S-Tab"
)


def validate_key(key: str) -> str:
    """Return tmux's spelling of ``key``, or raise UsageError."""
    if not isinstance(key, str) or key == "":
        raise UsageError("empty key name")
    rest = key
    prefix = ""
    while True:
        if len(rest) > 2 and rest[:2].upper() in _MODIFIERS:
            prefix += rest[:2].upper()
            rest = rest[2:]
        elif len(rest) == 2 and rest[0] == "^":
            prefix += "C-"
            rest = rest[1:]
        else:
            break
    if len(rest) == 1 and rest.isprintable():
        # A single character: C-c, M-x, or just 'y'.
        return prefix + (rest.lower() if prefix.startswith("C-") else rest)
    named = _NAMED.get(rest.lower())
    if named is not None:
        return prefix + named
    raise UsageError(
        f"unknown key name {key!r}; use a tmux key name ({COMMON_KEYS}), "
        "or 'tmuxagent send' to type text"
    )


def validate_keys(keys: list[str] | tuple[str, ...]) -> list[str]:
    if not keys:
        raise UsageError("no keys given; e.g. 'tmuxagent keys NAME C-c' or '... Enter'")
    return [validate_key(k) for k in keys]
