"""A verb on a remote host over a warm channel, against the same verb here.

    python bench/remote.py [--runs 40]

Starts a real sshd on 127.0.0.1 (tests/sshd.py; the host is this machine,
so both reach the same tmux server and session) and times, in turns, each
verb run as the CLI here (``tmuxagent -S SOCK VERB``), over the channel
(``tmuxagent -H HOST -S SOCK VERB``), and the way without tmuxagent's
channel: ``ssh HOST tmuxagent ...`` through an ssh master connection, which
starts the remote user's shell (with its rc files) and Python on every call.
Goal (issue 14): the remote verb costs at most the local one + 15 ms.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tmuxagent
from tests.sshd import Sshd, available


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    reason = available()
    if reason:
        print(f"cannot run: {reason}")
        return 1
    compileall.compile_dir(Path(tmuxagent.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        root = Path(tmp)
        for name in ("runtime", "cache", "sockets"):
            (root / name).mkdir(mode=0o700)
        env_line = f"XDG_RUNTIME_DIR={root}/runtime XDG_CACHE_HOME={root}/cache"
        host = Sshd(root / "sshd", alias="benchhost", extra=f"SetEnv {env_line}\n").start()
        env = {**os.environ, "TMUXAGENT_SSH_COMMAND": host.ssh_command,
               "TMUXAGENT_SOCKET_DIR": str(root / "sockets")}  # fmt: skip
        socket = str(root / "sockets" / "bench")
        server = tmuxagent.Server(socket)
        exe = [sys.executable, "-m", "tmuxagent"]
        try:
            server.start("py", [sys.executable, "-q"]).wait_text(">>> ")
            subprocess.run(
                [*exe, "-H", "benchhost", "list"], env=env, check=True, capture_output=True
            )  # fmt: skip  (the channel, warm)
            control = str(root / "sockets" / "plain.ctl")
            master = ["ssh", "-F", str(host.config), "-o", f"ControlPath={control}"]
            subprocess.run([*master, "-o", "ControlMaster=yes", "-o", "ControlPersist=60",
                            "-fN", "benchhost"], check=True)  # fmt: skip
            plain_root = Path(tmuxagent.__file__).parent.parent
            verbs = {"capture": ["capture", "py"], "status": ["status", "py"],
                     "list": ["list"]}  # fmt: skip
            results: dict[str, dict[str, list[float]]] = {}
            for verb, words in verbs.items():
                local = [*exe, "-S", socket, *words]
                remote = [*exe, "-H", "benchhost", "-S", socket, *words]
                over_ssh = [*master, "benchhost", shlex.join(
                    ["env", f"PYTHONPATH={plain_root}", sys.executable, "-m", "tmuxagent",
                     "-S", socket, *words])]  # fmt: skip
                times: dict[str, list[float]] = {"local": [], "remote": [], "ssh": []}
                for _ in range(args.runs):
                    times["local"].append(timed(local, env))
                    times["remote"].append(timed(remote, env))
                    times["ssh"].append(timed(over_ssh, env))
                results[verb] = times
            subprocess.run([*master, "-O", "exit", "benchhost"], capture_output=True, check=False)
        finally:
            server.kill_all()
            for pid, words in _processes():  # the host's server, the ssh masters
                if str(root).encode() in words and pid != os.getpid():
                    os.kill(pid, 9)
            host.stop()
    print(f"{args.runs} runs of each, in turns; medians (p90) in ms")
    print(f"{'verb':<8} {'here':>14} {'-H host':>14} {'ssh host tmuxagent':>20} {'extra':>8}")
    for verb, times in results.items():
        cells = [f"{statistics.median(t) * 1000:.1f} ({_p90(t) * 1000:.0f})"
                 for t in times.values()]  # fmt: skip
        extra = (statistics.median(times["remote"]) - statistics.median(times["local"])) * 1000
        print(f"{verb:<8} {cells[0]:>14} {cells[1]:>14} {cells[2]:>20} {extra:>+7.1f}")
    print("goal (issue 14): a remote verb at most the local one + 15 ms")
    return 0


def _p90(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.9)]


def _processes() -> list[tuple[int, bytes]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((int(entry.name), (entry / "cmdline").read_bytes()))
            except OSError:
                pass
    return found


if __name__ == "__main__":
    sys.exit(main())
