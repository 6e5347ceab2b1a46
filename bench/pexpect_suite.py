"""pexpect's own tests for spawn, run against ``tmuxagent.spawn``.

    python bench/pexpect_suite.py [--transport tmuxagent|pexpect] [--files test_expect.py ...]

Downloads pexpect's source distribution (the version installed here, with
pip, into ~/.cache/tmuxagent-bench), unpacks its tests, and runs the files
whose tests drive ``pexpect.spawn`` (directly, or through ``pexpect.run``,
``spawnu`` and ``replwrap``) with pytest, one file at a time (a file that
hangs is stopped after --file-timeout seconds). With ``--transport
tmuxagent`` (the default) a small plugin replaces ``pexpect.spawn`` by an
adapter that only maps constructor arguments: pexpect's positional order
to names, and any argument ``tmuxagent.spawn`` does not take is a failure
(a TypeError naming it), never dropped. ``--transport pexpect`` runs the
same files on pexpect itself, the baseline.

Prints a table: tests passed, failed and skipped per file, the total, and
how many sessions were left on the private tmux server afterwards (the
suite must leave none). Goal (issue 12): at least 155 of the spawn tests
pass on tmuxagent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pexpect

import tmuxagent

#: The test files whose tests drive pexpect.spawn.
SPAWN_FILES = (
    "test_async.py", "test_constructor.py", "test_ctrl_chars.py", "test_delay.py",
    "test_destructor.py", "test_dotall.py", "test_env.py", "test_expect.py",
    "test_interact.py", "test_isalive.py", "test_log.py", "test_misc.py",
    "test_missing_command.py", "test_performance.py", "test_replwrap.py", "test_repr.py",
    "test_run.py", "test_timeout_pattern.py", "test_unicode.py", "test_winsize.py",
)  # fmt: skip

#: Loaded by pytest before the tests (``-p``): pexpect.spawn becomes the adapter.
PLUGIN = '''
import inspect
import sys

import pexpect
import pexpect.pty_spawn
import tmuxagent

_PEXPECT = inspect.signature(pexpect.pty_spawn.spawn.__init__)
_OURS = inspect.signature(tmuxagent.spawn.__init__).parameters


class spawn(tmuxagent.spawn):
    """pexpect.spawn's constructor, mapped onto tmuxagent.spawn's: strict."""

    def __init__(self, *args, **kwargs):
        bound = _PEXPECT.bind(None, *args, **kwargs)
        given = {k: v for k, v in bound.arguments.items() if k != "self"}
        missing = sorted(k for k in given if k not in _OURS)
        if missing:
            raise TypeError(f"tmuxagent.spawn takes no {', '.join(missing)}")
        super().__init__(**given)


def spawnu(*args, **kwargs):
    kwargs.setdefault("encoding", "utf-8")
    return spawn(*args, **kwargs)


pexpect.spawn = pexpect.pty_spawn.spawn = spawn
pexpect.spawnu = pexpect.pty_spawn.spawnu = spawnu
sys.modules["pexpect.run"].spawn = spawn
'''


def sdist(cache: Path) -> Path:
    """pexpect's source distribution for the installed version (downloaded once)."""
    version = pexpect.__version__
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"pexpect-{version}.tar.gz"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", f"pexpect=={version}",
             "--no-binary", ":all:", "--no-deps", "-d", str(cache)],
            check=True,
        )  # fmt: skip
        found = sorted(cache.glob(f"pexpect-{version}.tar.gz"))
    return found[0]


def counts(report: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a JUnit XML report."""
    if not report.exists():
        return 0, 0, 0
    passed = failed = skipped = 0
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        if "skipped" in kinds:
            skipped += 1
        elif kinds & {"failure", "error"}:
            failed += 1
        else:
            passed += 1
    return passed, failed, skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transport", choices=["tmuxagent", "pexpect"], default="tmuxagent")
    parser.add_argument("--files", nargs="*", default=list(SPAWN_FILES))
    parser.add_argument("--file-timeout", type=float, default=300)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "tmuxagent-bench")
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's output")
    args = parser.parse_args()
    archive = sdist(args.cache)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        root = next(work.glob("pexpect-*"))
        shutil.rmtree(root / "pexpect")  # the installed pexpect is the one tested
        (work / "tmuxagent_adapter.py").write_text(PLUGIN)
        socket = work / "tmux.sock"
        env = {**os.environ, "TMUXAGENT_SOCKET": str(socket), "PYTHONPATH": str(work)}
        plugin = ["-p", "tmuxagent_adapter"] if args.transport == "tmuxagent" else []
        for name in args.files:
            report = work / f"{name}.xml"
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                       "-p", "no:randomly", *plugin, f"--junitxml={report}",
                       "-o", "asyncio_mode=auto", f"tests/{name}"]  # fmt: skip
            try:
                subprocess.run(
                    command, cwd=root, env=env, timeout=args.file_timeout, check=False,
                    stdout=None if args.verbose else subprocess.DEVNULL,
                    stderr=None if args.verbose else subprocess.DEVNULL,
                )  # fmt: skip
                note = ""
            except subprocess.TimeoutExpired:
                note = f"stopped after {args.file_timeout:g} s"
            rows.append((name, *counts(report), note))
        left: list[str] = []
        if socket.exists():
            server = tmuxagent.Server(str(socket))
            left = [f"{i.name} ({i.command})" for i in server.sessions()]
            server.kill_all()
    print(f"pexpect {pexpect.__version__}'s spawn tests on {args.transport}")
    print(f"{'file':<26} {'passed':>6} {'failed':>6} {'skipped':>7}")
    for name, passed, failed, skipped, note in rows:
        print(f"{name:<26} {passed:>6} {failed:>6} {skipped:>7}  {note}")
    total = [sum(row[i] for row in rows) for i in (1, 2, 3)]
    print(f"{'total':<26} {total[0]:>6} {total[1]:>6} {total[2]:>7}")
    print(f"sessions left on the server: {len(left)}")
    for entry in left:
        print(f"  {entry}")
    print("goal (issue 12): >= 155 pass on tmuxagent, no session left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
