"""Session names: which are allowed, and how they are spelled for tmux.

Users may pick any printable name. tmux, though, rewrites ``.`` and ``:`` in
session names (they separate window and pane in a target), expands ``#``
formats in ``new-session -s``, escapes backslashes, and reads a leading ``$`` as a session id even
after ``=``. tmuxagent therefore stores a percent-encoded form in tmux and
shows the user's own name everywhere else.
"""

from __future__ import annotations

from .errors import UsageError

MAX_NAME = 100
_ENCODE_ALWAYS = "%.:#\\"
_ENCODE_FIRST = "$@=~!+-"
_HEX = "0123456789abcdefABCDEF"


def validate_name(name: str) -> str:
    """Return ``name`` if it is a usable session name, else raise UsageError."""
    if not isinstance(name, str) or not name.strip():
        raise UsageError("session name must not be empty")
    if len(name) > MAX_NAME:
        raise UsageError(f"session name is too long ({len(name)} > {MAX_NAME} characters)")
    if not name.isprintable():
        bad = next(c for c in name if not c.isprintable())
        raise UsageError(
            f"session name {name!r} contains the non-printable character {bad!r}; "
            "use letters, digits and punctuation"
        )
    return name


def encode_name(name: str) -> str:
    """The spelling of a user's session name inside tmux."""
    out = []
    for i, ch in enumerate(validate_name(name)):
        if ch in _ENCODE_ALWAYS or (i == 0 and ch in _ENCODE_FIRST):
            out.append(f"%{ord(ch):02X}")
        else:
            out.append(ch)
    return "".join(out)


def decode_name(encoded: str) -> str:
    """Inverse of :func:`encode_name` (tolerant of names tmuxagent did not make).

    Only ``%`` and two hex digits is an escape; any other ``%`` is kept as it is.
    """
    if "%" not in encoded:
        return encoded
    out = []
    i = 0
    while i < len(encoded):
        code = encoded[i + 1 : i + 3]
        if encoded[i] == "%" and len(code) == 2 and all(c in _HEX for c in code):
            out.append(chr(int(code, 16)))
            i += 3
        else:
            out.append(encoded[i])
            i += 1
    return "".join(out)


def session_target(name: str) -> str:
    """An exact-match tmux target for the session called ``name``.

    The trailing ``:`` matters: commands whose target is a window (such as
    ``list-panes``) read a bare ``=NAME`` as a window name first, then fall
    back to a session whose name merely *starts* with NAME.
    """
    return "=" + encode_name(name) + ":"
