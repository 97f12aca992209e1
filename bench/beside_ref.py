"""Run bench parts beside the reference code in the same run, and print the ratio current/reference.

A benchmark, not a test. The reference (BENCH_REF, default 051610d: the code before the concurrent
apply) is exported from git (`git archive`, so a fresh clone works) into a temp folder; then the
reference's and this tree's `bench/<part>.py` run the same workload in alternate rounds (ref, cur, ref,
cur, ...), since the machine is shared and noisy. For every `RESULT` line both print, the median of each
figure over the rounds is printed beside the reference's, with the ratio current/reference (for rates
higher is better; for times and counts lower is better).

Run from the project root: `python3 bench/beside_ref.py apply [sync summary writeback]`.
  BENCH_REF (051610d), BENCH_REF_ROUNDS (3), and each part's own variables, passed through to both sides.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF = os.environ.get("BENCH_REF", "051610d")
ROUNDS = int(os.environ.get("BENCH_REF_ROUNDS", "3"))
# the fields that say what a RESULT line measures (the same on both sides), not what it measured
NAMES = {"db", "run", "kr", "items", "events", "work_items", "target", "mode", "size"}


def export(commit: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run_once(root: Path, part: str) -> dict[str, dict[str, float]]:
    """One `bench/<part>.py` run in `root`: its RESULT lines, each as {figure: value}, by what it measures."""
    # the reference sits in a temp folder: the fixtures are this tree's ../shared (as bench/run.sh finds them)
    env = {"OKRBOT_SHARED": str(ROOT.parent / "shared")} | os.environ
    done = subprocess.run([sys.executable, f"bench/{part}.py"], cwd=root, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"bench: {part} of {root} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    out = done.stdout
    results = {}
    for line in out.splitlines():
        if not line.startswith("RESULT "):
            continue
        fields = re.findall(r"(\w+)=(\S+)", line)
        label = " ".join([line.split()[1]] + [f"{k}={v}" for k, v in fields if k in NAMES and k != "target"])
        figures = {}
        for k, v in fields:
            number = re.match(r"^-?[0-9.]+", v)
            if k not in NAMES and number and re.fullmatch(r"-?[0-9.]+(ms|s)?", v):
                figures[k] = float(number.group())
        results[label] = figures
    return results


def compare(part: str, sides: dict[str, Path]) -> None:
    seen: dict[str, list[dict[str, dict[str, float]]]] = {"ref": [], "cur": []}
    for r in range(1, ROUNDS + 1):
        for side, root in sides.items():
            got = run_once(root, part)
            seen[side].append(got)
            for label, figures in got.items():
                print(f"round {r} {side}: {label} " + " ".join(f"{k}={v:g}" for k, v in figures.items()), flush=True)
    for label in seen["cur"][0]:
        if not all(label in run for runs in seen.values() for run in runs):
            print(f"RATIO {label}: the reference prints no such result", flush=True)
            continue
        parts = []
        for figure in seen["cur"][0][label]:
            cur, ref = (statistics.median(run[label][figure] for run in seen[side] if figure in run[label])
                        if any(figure in run[label] for run in seen[side]) else None for side in ("cur", "ref"))
            if ref:
                parts.append(f"{figure} {cur / ref:.2f}x ({cur:g} vs {ref:g})")
        print(f"RATIO {label} (medians of {ROUNDS}, current/reference {REF}): " + "; ".join(parts), flush=True)


def main() -> None:
    parts = sys.argv[1:] or ["apply"]
    work = Path(tempfile.mkdtemp(prefix="okrbot-bench-ref-"))
    try:
        export(REF, work)
        for part in parts:
            compare(part, {"ref": work, "cur": ROOT})
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
