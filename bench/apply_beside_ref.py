"""bench/apply.py beside the reference code (051610d, before the concurrent apply), in the same run.

A benchmark, not a test: the reference is exported from git (`git archive`) into a temp folder, then
the reference's and this tree's `bench/apply.py` run the same workload in alternate rounds (ref, cur,
ref, cur, ...) on each database; prints each round, the medians and the ratio current/reference
(events per second: higher is better; ms per event on a key result of 10 and of 10,000 work items).

Run from the project root: `python3 bench/apply_beside_ref.py`.
  BENCH_REF (default 051610d), BENCH_REF_ROUNDS (3), BENCH_APPLY_DBS ("sqlite pg"), and bench/apply.py's
  own variables, passed through to both.
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
DBS = os.environ.get("BENCH_APPLY_DBS", "sqlite pg").split()


def export(commit: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run_once(root: Path, db: str) -> dict[str, float]:
    """One bench/apply.py run of `root` on `db`: events/s and the small/large ms per event."""
    env = os.environ | {"BENCH_APPLY_DBS": db}
    out = subprocess.run([sys.executable, "bench/apply.py"], cwd=root, env=env, check=True,
                         capture_output=True, text=True).stdout
    fields = dict(re.findall(r" (\w+)=([0-9.]+)", " ".join(line for line in out.splitlines()
                                                          if line.startswith("RESULT"))))
    return {name: float(fields[name]) for name in ("events_per_s", "small_ms", "large_ms")}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="okrbot-bench-ref-"))
    try:
        export(REF, work)
        sides = {"ref": work, "cur": ROOT}
        for db in DBS:
            seen: dict[str, list[dict[str, float]]] = {"ref": [], "cur": []}
            for r in range(1, ROUNDS + 1):
                for side, root in sides.items():
                    got = run_once(root, db)
                    seen[side].append(got)
                    print(f"round {r} apply db={db} {side}: " + " ".join(f"{k}={v:g}" for k, v in got.items()),
                          flush=True)
            med = {side: {k: statistics.median(g[k] for g in runs) for k in runs[0]} for side, runs in seen.items()}
            ref, cur = med["ref"], med["cur"]
            print(f"RATIO apply db={db} ({ROUNDS} rounds, medians, current/reference {REF}): "
                  f"events/s {cur['events_per_s'] / ref['events_per_s']:.2f}x "
                  f"({cur['events_per_s']:.0f} vs {ref['events_per_s']:.0f}); "
                  f"ms per event on 10 items {cur['small_ms'] / ref['small_ms']:.2f}x "
                  f"({cur['small_ms']:.2f} vs {ref['small_ms']:.2f}); "
                  f"on 10,000 items {cur['large_ms'] / ref['large_ms']:.2f}x "
                  f"({cur['large_ms']:.2f} vs {ref['large_ms']:.2f})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
