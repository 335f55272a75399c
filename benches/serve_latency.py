#!/usr/bin/env python3
"""Latency of the nurse workbench (`ittai serve`) on a synthetic union.

    python3 benches/serve_latency.py --data ~/.cache/ittai-bench/p100000_seed1

Starts `ittai serve --no-open` on a copy-free dataset folder (the benchmark only reads),
and measures:
  ready        seconds from the start of the process to the printed URL (dataset opened —
               validation reused when its stamp is current — and the feature table of the
               default FY built once, with the default lists);
  first page   seconds for GET / once ready;
  threshold    GET /rules/R03/count?threshold=N for N alternating over 12…25 (21 requests):
               the time to re-apply R03 on the cached features (the server's own measure,
               header X-Ittai-Elapsed-Ms, and the wall time of the request), median with
               min and max;
  new feature  GET /rules/R04/count?include_etizolam=true once (a drug-class option that
               needs a feature not yet cached: built once), then again (cached).

Writes benches/results/serve_<UTC date>.md and prints it.
"""
import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def get(url):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        r.read()
        ms = r.headers.get("X-Ittai-Elapsed-Ms")
    return (time.perf_counter() - t0) * 1000.0, float(ms) if ms else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--ittai", default=str(Path(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/ittai-target"))) / "release" / "ittai"))
    a = ap.parse_args()
    out = tempfile.mkdtemp(prefix="ittai-serve-bench-")
    t0 = time.perf_counter()
    p = subprocess.Popen([a.ittai, "serve", "--data", a.data, "--out", out, "--no-open"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = None
    try:
        for line in p.stdout:
            m = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if m:
                url = m.group(0)
                break
        if not url:
            sys.exit("the server printed no URL")
        ready = time.perf_counter() - t0
        first, _ = get(url)
        thresholds = [15, 20, 12, 25, 16, 19, 13, 24, 17, 18, 14, 23, 15, 21, 12, 22, 16, 20, 13, 25, 18]
        wall, server = [], []
        for n in thresholds:
            w, s = get(f"{url}rules/R03/count?threshold={n}")
            wall.append(w)
            server.append(s)
        new1, s1 = get(f"{url}rules/R04/count?include_etizolam=true")
        new2, s2 = get(f"{url}rules/R04/count?include_etizolam=true")
    finally:
        p.terminate()
        p.wait()
    def spread(xs):
        xs = [x for x in xs if x is not None]
        return f"{statistics.median(xs):.0f} ms (min {min(xs):.0f}, max {max(xs):.0f}, n={len(xs)})"
    persons = sum(1 for _ in open(Path(a.data) / ".generator")) if (Path(a.data) / ".generator").exists() else None
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    md = [f"# ittai serve latency, {stamp}", "",
          f"Dataset: `{a.data}`. Command: `python3 benches/serve_latency.py --data {a.data}`.", "",
          "| measure | value |", "|---|---|",
          f"| ready (process start → URL printed: dataset opened, features of the default FY built) | {ready:.1f} s |",
          f"| first page (GET /) | {first:.0f} ms |",
          f"| threshold change, R03 re-applied on cached features (server) | {spread(server)} |",
          f"| threshold change, whole request (wall) | {spread(wall)} |",
          f"| R04 with エチゾラム, first time (a new feature built) | {new1:.0f} ms (server {s1:.0f} ms) |" if s1 else f"| R04 with エチゾラム, first time | {new1:.0f} ms |",
          f"| R04 with エチゾラム, again (cached) | {new2:.0f} ms (server {s2:.0f} ms) |" if s2 else f"| R04 with エチゾラム, again | {new2:.0f} ms |"]
    res = ROOT / "benches" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / f"serve_{stamp}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
