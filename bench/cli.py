"""How long a ``chatkitd`` command takes to start, against a bare Python start.

    .venv/bin/python bench/cli.py [--runs 10]

Each command runs as an operator runs it (a new process), on a migrated
SQLite data dir in a temporary folder. The baseline is ``python -c "import
click"``: the interpreter and the CLI library, with nothing of chatkitd. The
two are interleaved so that the machine's load weighs on both alike.
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

COMMANDS = [["--help"], ["--version"], ["keys", "list"], ["workflows", "list"], ["traces", "list"]]


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    chatkitd = str(Path(sys.executable).with_name("chatkitd"))
    baseline = [sys.executable, "-c", "import click"]
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")}
        env["CHATKITD_DATA_DIR"] = data_dir
        subprocess.run([chatkitd, "migrate"], env=env, check=True, capture_output=True)
        print(f"{'command':<28}{'median':>10}{'baseline':>10}{'ratio':>8}")
        for command in COMMANDS:
            ours, bare = [], []
            for _ in range(args.runs):
                ours.append(timed([chatkitd, *command], env))
                bare.append(timed(baseline, env))
            mine, base = statistics.median(ours), statistics.median(bare)
            name = "chatkitd " + " ".join(command)
            print(f"{name:<28}{mine * 1000:>8.0f}ms{base * 1000:>8.0f}ms{mine / base:>7.1f}x")


if __name__ == "__main__":
    main()
