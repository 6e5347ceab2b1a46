"""``tmuxagent demo``: drive a Python REPL in tmux the way an agent would.

Each step shows the CLI command an agent would run and what came back; at
the end the session keeps running so that a human can attach and look.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable

from .errors import NoSuchSession
from .server import Server

NAME = "demo"

FIB = """\
def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
"""


def run_demo(server: Server, echo: Callable[[str], None], socket: str | None = None) -> int:
    """Run the demo on ``server`` (``socket``: the -S it was given, for its hints)."""
    with contextlib.suppress(NoSuchSession):
        server.session(NAME).kill()

    def step(command: str) -> float:
        echo(f"\n$ {command}")
        return time.monotonic()

    def took(t0: float, result: str = "") -> None:
        ms = (time.monotonic() - t0) * 1000
        echo(f"{result}  ({ms:.0f} ms)" if result else f"  ({ms:.0f} ms)")

    t0 = step("tmuxagent start demo --env PYTHON_BASIC_REPL=1 -- python3 -q")
    py = server.start(NAME, [sys.executable, "-q"], env={"PYTHON_BASIC_REPL": "1"})
    py.wait_text(r">>> $", timeout=20)
    took(t0, f"  a Python REPL is up (pid {py.status().pid})")

    t0 = step("tmuxagent send demo --enter 'import sys; sys.version_info[:2]'")
    py.send("import sys; sys.version_info[:2]", enter=True)
    took(t0)
    t0 = step("tmuxagent wait demo --text '^\\(3, \\d+\\)$'")
    took(t0, "  " + py.wait_text(r"^\(3, \d+\)$").group())

    echo("\n$ cat fib.py")
    echo(FIB.rstrip("\n"))
    t0 = step("tmuxagent paste demo fib.py --enter && tmuxagent wait demo --text '>>> $'")
    py.paste(FIB, enter=True)
    py.wait_text(r">>> $")
    took(t0, "  a multi-line block, pasted exactly")
    t0 = step("tmuxagent send demo --enter 'fib(90)' && tmuxagent wait demo --text '^\\d+$'")
    py.send("fib(90)", enter=True)
    took(t0, "  " + py.wait_text(r"^\d+$").group())

    tricky = "print('a;b; \"quoted\" $HOME !! Enter ünïcødé 日本;')"
    t0 = step(f"tmuxagent send demo --enter {shlex.quote(tricky)}")
    py.send(tricky, enter=True)
    took(t0, "  " + py.wait_text(r"^a;b.*;$").group())

    py.read()  # from here on, read returns only what follows
    t0 = step(
        "tmuxagent send demo --enter 'for i in range(5000): print(i)' && "
        "tmuxagent keys demo Enter && tmuxagent wait demo --text '^4999$'"
    )
    py.send("for i in range(5000): print(i)", enter=True)
    py.keys("Enter")  # ends the for block
    py.wait_text(r"^4999$")
    took(t0)
    t0 = step("tmuxagent read demo | grep -c '^[0-9]'   # lossless: 5000 lines scrolled by")
    numbers = [ln for ln in py.read().split("\n") if ln.isdigit()]
    complete = numbers == [str(i) for i in range(5000)]
    took(t0, f"  {len(numbers)} lines, all there and in order: {complete}")

    echo("\n$ tmuxagent capture demo --lines 12")
    echo(py.capture(lines=12).text)

    attach = shlex.join(py.attach_command())
    me, bin_dir = command_name()
    if socket is not None:
        me += f" -S {shlex.quote(socket)}"
    echo(
        "\nThe REPL is still running. Watch it or take over:\n"
        f"  {me} attach demo   # or: {attach}\n"
        f"  {me} dashboard     # every session on the agent server, live\n"
        f"  {me} kill demo     # when done"
    )
    if bin_dir:
        echo(f"To call it as 'tmuxagent': export PATH={shlex.quote(bin_dir)}:\"$PATH\"")
    return 0 if complete else 1


def command_name() -> tuple[str, str | None]:
    """How the user can run this CLI again, and the directory to put on PATH
    to run it as ``tmuxagent`` (None: it is already, or there is none)."""
    found = shutil.which("tmuxagent")
    if found and os.path.realpath(found) == os.path.realpath(sys.argv[0]):
        return "tmuxagent", None
    script = os.path.join(os.path.dirname(sys.executable), "tmuxagent")
    if os.path.basename(sys.argv[0]) == "tmuxagent":  # e.g. .venv/bin/tmuxagent
        script = sys.argv[0]
        me = shlex.quote(script)
    else:  # python -m tmuxagent
        me = f"{shlex.quote(sys.executable)} -m tmuxagent"
    if not os.access(script, os.X_OK):
        return me, None
    return me, os.path.dirname(os.path.abspath(script))
