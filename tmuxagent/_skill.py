"""Installing the agent skill (skills/tmux) where agents look for skills."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import UsageError, shown

SKILL_NAME = "tmux"


def skill_source() -> Path:
    """The skill directory: inside the installed package, or in the repository."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_skill" / SKILL_NAME, here.parent / "skills" / SKILL_NAME):
        if (candidate / "SKILL.md").is_file():
            return candidate
    raise UsageError("the skill files are missing from this installation; reinstall tmuxagent")


def default_skill_dir() -> Path:
    """Claude Code's personal skills folder (other agents: pass their folder)."""
    return Path(os.path.expanduser("~")) / ".claude" / "skills"


def install_skill(dest: str | os.PathLike[str] | None = None, *, force: bool = False) -> Path:
    """Copy the skill to ``dest/tmux`` (default ``~/.claude/skills/tmux``)."""
    if dest is not None and not os.fspath(dest):
        raise UsageError("the skill directory is empty; give a directory, or none for the default")
    root = Path(dest).expanduser() if dest is not None else default_skill_dir()
    target = root / SKILL_NAME
    source = skill_source()
    try:
        if target.is_symlink():  # whoever made the link chose where it points
            raise UsageError(f"{target} is a symbolic link; remove it or pick another DIR")
        if target.exists():
            if not force and not (target / "SKILL.md").is_file():
                raise UsageError(
                    f"{target} exists and is not a skill; remove it or pick another DIR"
                )
            shutil.rmtree(target)
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target)
    except OSError as exc:  # a file in the way, a name too long...
        where = shown(str(target))
        raise UsageError(f"cannot install the skill in {where}: {exc.strerror}") from None
    for script in (target / "scripts").glob("*"):
        script.chmod(0o755)
    return target
