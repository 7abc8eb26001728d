"""How long a ``chatkitd`` command takes to start, against a bare Python start.

    .venv/bin/python bench/cli.py [--runs 10] [--before SRC]

Each command runs as an operator runs it (a new process, ``python -m
chatkitd``), on a migrated SQLite data dir in a temporary folder. The
baseline is ``python -c "import click"``: the interpreter and the CLI
library, with nothing of chatkitd. ``--before SRC`` also runs the commands
from another source tree (a folder holding a ``chatkitd`` package, e.g. an
older commit's ``git archive``), with its own data dir, to compare versions.
Everything is interleaved so that the machine's load weighs on all alike.
Medians of ``--runs``; ratios to the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = [["--help"], ["keys", "list"], ["workflows", "list"], ["traces", "list"]]


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def environment(data_dir: str, source: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")}
    env["CHATKITD_DATA_DIR"] = data_dir
    if source is not None:
        env["PYTHONPATH"] = source
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--before", default=None, help="a source tree to compare with")
    args = parser.parse_args()
    chatkitd = [sys.executable, "-m", "chatkitd"]
    baseline = [sys.executable, "-c", "import click"]
    with tempfile.TemporaryDirectory() as now_dir, tempfile.TemporaryDirectory() as before_dir:
        sides = {"chatkitd": environment(now_dir, None)}
        if args.before:
            sides["before"] = environment(before_dir, str(Path(args.before).resolve()))
        for env in sides.values():
            subprocess.run([*chatkitd, "migrate"], env=env, check=True, capture_output=True)
        header = "".join(f"{name:>12}" for name in sides)
        print(f"{'command':<24}{header}{'bare python':>12}   ratios to bare")
        for command in COMMANDS:
            samples: dict[str, list[float]] = {name: [] for name in [*sides, "bare"]}
            for _ in range(args.runs):
                for name, env in sides.items():
                    samples[name].append(timed([*chatkitd, *command], env))
                samples["bare"].append(timed(baseline, sides["chatkitd"]))
            medians = {name: statistics.median(values) for name, values in samples.items()}
            cells = "".join(f"{medians[name] * 1000:>10.0f}ms" for name in sides)
            ratios = "  ".join(f"{name} {medians[name] / medians['bare']:.1f}x" for name in sides)
            print(f"chatkitd {' '.join(command):<15}{cells}{medians['bare'] * 1000:>10.0f}ms   {ratios}")


if __name__ == "__main__":
    main()
