"""Scaling benchmark: the demo account locally and on a dask.distributed LocalCluster of 1, 2, 4 workers.

Usage::

    .venv/bin/python benchmarks/scaling.py --resolution 100 --local --workers 1 2 4 --cache /tmp/gepcache
    .venv/bin/python benchmarks/scaling.py --resolution 30 --local --workers --reports --cache /tmp/gepcache

Every configuration runs in a fresh subprocess, on the real ``gep account`` path: ``prepare_inputs``
then :func:`gep.engine.run.run_account` (items are computed while the previous ones are written and
summed). It prints the wall time of the phases (``prepare``:
reading, aligning and checking the inputs; ``account``: computing, writing and summing every item and
the tables, with ``--reports`` also the density map, previews, report.xlsx and report.html), the CPU
seconds of the client process (user + system) and the peak resident memory of the process tree (client
plus cluster workers, sampled every 0.1 s with psutil). The demo inputs are built once into
``--cache`` beforehand (not timed).

Benchmarks are recorded (benchmarks/RESULTS.md ("Account engine" section)), never asserted in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total


class PeakMemory:
    """Peak RSS (bytes) of this process and its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.1):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            self._stop.wait(interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss(os.getpid()))


def one_run(resolution: float, cache: Path, workers: int, reports: bool) -> dict:
    """Run one configuration in this process; ``workers`` 0 = local (no dask)."""
    import resource
    import tomllib

    from gep.demo.runner import demo_inputs, output_spec_text
    from gep.engine.array_pool import avoid_numpy_huge_pages
    from gep.engine.run import run_account
    from gep.inputs.prepare import prepare_inputs
    from gep.spec import parse_spec

    # `gep account` prepares the inputs inside run_account, whose allocator gives no huge-page advice;
    # here prepare_inputs runs on its own, so switch numpy's advice off as the CLI's path has it
    avoid_numpy_huge_pages()

    text = output_spec_text(demo_inputs(resolution, cache))
    out = Path(tempfile.mkdtemp(prefix="gep-scaling-")) / "account"
    spec, problems = parse_spec(tomllib.loads(text), out / "spec.toml")
    if spec is None:
        raise SystemExit("; ".join(p.render("en") for p in problems))
    cluster = None
    scheduler = None
    times: dict[str, float] = {}
    with PeakMemory() as memory:
        if workers:
            from distributed import LocalCluster

            start = time.perf_counter()
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit=0
            )
            scheduler = cluster.scheduler_address
            times["cluster_start"] = time.perf_counter() - start
        cpu_start = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        prepared = prepare_inputs(spec)
        times["prepare"] = time.perf_counter() - start
        start = time.perf_counter()
        run_account(spec, out, prepared=prepared, reports=reports, scheduler=scheduler)
        times["account"] = time.perf_counter() - start
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        if cluster is not None:
            cluster.close()
    shutil.rmtree(out.parent, ignore_errors=True)  # about 1 GB at 30 m
    times["total"] = sum(v for k, v in times.items() if k != "cluster_start")
    grid = prepared.grid
    return {
        "resolution_m": resolution,
        "grid": [grid.height, grid.width],
        "pixels": grid.height * grid.width,
        "workers": workers,
        "local_threads": os.cpu_count(),
        "reports": reports,
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "client_cpu_user_s": round(cpu.ru_utime - cpu_start.ru_utime, 1),
        "client_cpu_system_s": round(cpu.ru_stime - cpu_start.ru_stime, 1),
        "peak_rss_gb": round(memory.peak / 1e9, 2),
        "items": len(prepared.computable_items),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolution", type=float, default=100.0)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4], help="cluster sizes (0 = local)")
    parser.add_argument("--local", action="store_true", help="also run locally (no dask), first")
    parser.add_argument("--reports", action="store_true", help="also write the report files (as gep account)")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="append one JSON line per run here")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        result = one_run(args.resolution, args.cache, args.workers[0], args.reports)
        print(json.dumps(result))
        return
    from gep.demo.runner import demo_inputs

    demo_inputs(args.resolution, args.cache)  # build the inputs once, untimed
    configs = ([0] if args.local else []) + list(args.workers)
    print(f"{'workers':>8} {'prepare':>8} {'account':>8} {'total':>8} {'user s':>8} {'sys s':>8} {'peak GB':>8}")
    for workers in configs:
        command = [sys.executable, __file__, "--one", "--resolution", str(args.resolution)]
        command += ["--reports"] if args.reports else []
        command += ["--workers", str(workers)]
        if args.cache is not None:
            command += ["--cache", str(args.cache)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{workers:>8} failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        s = result["seconds"]
        label = "local" if workers == 0 else str(workers)
        print(
            f"{label:>8} {s['prepare']:8.1f} {s['account']:8.1f} {s['total']:8.1f} "
            f"{result['client_cpu_user_s']:8.1f} {result['client_cpu_system_s']:8.1f} {result['peak_rss_gb']:8.2f}",
            flush=True,
        )
        if args.json is not None:
            with args.json.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
