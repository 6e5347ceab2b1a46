"""The dashboard following 3 hosts x 20 sessions, against 60 sessions here.

    python bench/dashboard_hosts.py [--seconds 20] [--rounds 2]

Starts three real sshd on 127.0.0.1 (tests/sshd.py: the hosts are this
machine), 20 sessions on each host's server and 60 on a local one, each
printing about 10 lines a second (bash builtins: see TICKER), and runs
``tmuxagent dashboard`` in a 160x45 pane: once on the 60 local sessions,
once with ``--host`` for each host (and no local session), in turns, then
the same in this process with no terminal (see headless). Measured over
each window: the dashboard process's CPU as a share of one core, and for
the hosts also the ssh master connections' and the hosts' tmuxagent
servers' (their forks serve the calls), which on real hosts would be spread
over the network.
Goal (issue 14): the dashboard no more CPU with 3 x 20 remote than 60 local.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tmuxagent
from bench.dashboard import cpu_seconds
from tests.sshd import Sshd, available

#: About 10 lines a second from bash's builtins alone: 120 sessions of
#: bench/dashboard.py's ticker (``date`` and ``sleep`` ten times a second each)
#: start 2,400 processes a second and leave the dashboards little machine.
TICKER = (
    "exec 3<> <(:); i=0; while :; do printf '%(%H:%M:%S)T %d\\n' -1 \"$i\"; i=$((i+1)); "
    "read -t 0.1 -u 3 _; done"
)


def processes(needle: str, serving: bool = False) -> list[int]:
    """Processes whose command line holds ``needle``; ``serving``: only the
    ssh connections and the hosts' tmuxagent servers (not the tmux servers
    or the sessions' programs, which a local dashboard has too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if not any(needle.encode() in w for w in words):
                continue
            if serving and not (os.path.basename(words[0]) == b"ssh"
                                or b"tmuxagent._serve" in b" ".join(words)):  # fmt: skip
                continue
            found.append(int(entry.name))
    return found


def total_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:  # gone meanwhile
            pass
    return total


def window(outer: tmuxagent.Server, argv: list[str], env: dict[str, str], seconds: float,
           wait_for: str, others: str | None) -> tuple[float, float]:  # fmt: skip
    """CPU shares (dashboard, ssh and hosts' servers) over ``seconds``."""
    dash = outer.start("dash", argv, size="160x45", env=env)
    dash.wait_text(wait_for, timeout=120)
    time.sleep(3)  # settle: the first screens are fetched
    pid = dash.status().pid
    side = (lambda: processes(others, serving=True)) if others else (lambda: [])
    d0, s0, t0 = cpu_seconds(pid), total_cpu(side()), time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    shares = ((cpu_seconds(pid) - d0) / wall, (total_cpu(side()) - s0) / wall)
    dash.kill()
    return shares


def headless(server: Any, seconds: float) -> tuple[float, float]:
    """The dashboard in this process with no terminal (Textual's headless
    driver: it lays out and renders, writes nowhere): (CPU share, refreshes
    a second). The tick rate differs between the two cases when the machine
    is loaded (a local look at 60 sessions' states takes ~0.6 s then), and
    each refresh costs CPU: the CPU per refresh compares the same work."""
    from tmuxagent.dashboard import DashboardApp

    async def run() -> tuple[float, float]:
        app = DashboardApp(server, interval=0.1)
        async with app.run_test(size=(160, 45)):
            deadline = time.monotonic() + 120
            while len(app.sessions) < 60 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(3)  # settle: the first screens are fetched
            c0, t0, ticks = time.process_time(), time.monotonic(), app.ticks
            await asyncio.sleep(seconds)
            wall = time.monotonic() - t0
            return (time.process_time() - c0) / wall, (app.ticks - ticks) / wall

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if available():
        print(f"cannot run: {available()}")
        return 1
    compileall.compile_dir(Path(tmuxagent.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-hosts-") as tmp:
        root = Path(tmp)
        (root / "sockets").mkdir(mode=0o700)
        hosts, config = [], root / "ssh_config"
        for n in range(3):
            for name in ("runtime", "cache"):
                (root / f"h{n}" / name).mkdir(mode=0o700, parents=True)
            env_line = f"XDG_RUNTIME_DIR={root}/h{n}/runtime XDG_CACHE_HOME={root}/h{n}/cache"
            hosts.append(Sshd(root / f"h{n}" / "sshd", alias=f"host{n}",
                              extra=f"SetEnv {env_line}\n").start())  # fmt: skip
        config.write_text("".join(h.config.read_text() for h in hosts))
        env = {"TMUXAGENT_SSH_COMMAND": f"ssh -F {config}",
               "TMUXAGENT_SOCKET_DIR": str(root / "sockets")}  # fmt: skip
        os.environ.update(env)
        local = tmuxagent.Server(root / "sockets" / "local")
        empty = root / "sockets" / "empty"
        outer = tmuxagent.Server(root / "sockets" / "outer")
        remote = [tmuxagent.Server(host=h.alias) for h in hosts]
        exe = [sys.executable, "-m", "tmuxagent"]
        results: dict[str, list[tuple[float, float]]] = {"60 here": [], "3 hosts x 20": []}
        inside: dict[str, list[tuple[float, float]]] = {"60 here": [], "3 hosts x 20": []}
        try:
            for i in range(60):
                local.start(f"agent-{i:02d}", ["bash", "-c", TICKER])
            for server in remote:
                for i in range(20):
                    server.start(f"agent-{i:02d}", ["bash", "-c", TICKER])
                server.close()  # type: ignore[attr-defined]
            here = [*exe, "-S", str(local.socket_path), "dashboard"]
            there = [*exe, "-S", str(empty), "dashboard"]
            for h in hosts:
                there += ["--host", h.alias]
            for _ in range(args.rounds):
                results["60 here"].append(
                    window(outer, here, env, args.seconds, "60 sessions", None)
                )
                results["3 hosts x 20"].append(
                    window(outer, there, env, args.seconds, "60 sessions", str(root))
                )
            from tmuxagent.dashboard.hosts import Hosts

            together = Hosts(
                {
                    "": tmuxagent.Server(empty),
                    **{h.alias: s for h, s in zip(hosts, remote, strict=True)},
                }
            )
            for _ in range(args.rounds):
                inside["60 here"].append(headless(local, args.seconds))
                inside["3 hosts x 20"].append(headless(together, args.seconds))
        finally:
            outer.kill_all()
            local.kill_all()
            for pid in processes(str(root)):  # the hosts' tmux servers, and all they ran
                if pid != os.getpid():
                    os.kill(pid, 9)
            for h in hosts:
                h.stop()
    print(f"dashboard, 160x45, sessions printing ~10 lines/s, {args.seconds:g} s windows, "
          f"{args.rounds} rounds in turns; CPU as a share of one core (each round)")  # fmt: skip
    for label, shares in results.items():
        dash = " / ".join(f"{d * 100:.1f}%" for d, _ in shares)
        side = " / ".join(f"{s * 100:.1f}%" for _, s in shares)
        med = statistics.median(d for d, _ in shares) * 100
        print(
            f"{label:<14} dashboard {dash} (median {med:.1f}%)"
            + (f"; ssh and the hosts' servers {side}" if label != "60 here" else "")
        )
    print("in this process, headless: CPU share, refreshes a second, CPU per refresh (each round)")
    for label, pairs in inside.items():
        per = [cpu / rate * 1000 if rate else float("nan") for cpu, rate in pairs]
        print(f"{label:<14} " + " / ".join(f"{c * 100:.1f}% {r:.1f}/s {p:.1f} ms"
                                           for (c, r), p in zip(pairs, per, strict=True))
              + f" (median {statistics.median(per):.1f} ms per refresh)")  # fmt: skip
    print("goal (issue 14): 3 hosts x 20 no more than 60 here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
