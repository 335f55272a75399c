#!/usr/bin/env python3
"""Scale harness: ittai against a DuckDB baseline on synthetic unions of 10,000, 100,000
and 1,000,000 persons over four fiscal years (FY2021-FY2024).

    python3 benches/harness.py                       # all three scales (about 25 minutes)
    python3 benches/harness.py --scales 10000,100000 # a subset
    python3 benches/harness.py --ingest 100000       # also ingest throughput at this scale

Needs: a release build (the harness runs `cargo build --release --locked`) and
`python3 -m pip install duckdb`. Populations are generated once and cached in
~/.cache/ittai-bench/ (override with --cache); a cache entry is rebuilt when the
generator's source changes.

For each scale it measures, each as a separate process (wall time, peak resident memory
from wait4), `run` and `duckdb` in alternating pairs (A B A B …, --pairs, default 3):
  synth      ittai synth (the generator)
  validate   ittai run --revalidate --no-indicators --no-evaluation
                                                       (validation + features + rules + lists)
  run        ittai run --no-indicators --no-evaluation (validation reused: features + rules + lists)
  full       ittai run                                 (the main job: lists, the indicators for
                                                       every FY and the programme evaluation)
  duckdb     benches/duckdb_baseline.py                (the same features and ten rules as SQL)
and checks that DuckDB and ittai list the same persons for every rule. The ratio
ittai / DuckDB compares `run` with `duckdb` (the same work: features, ten rules, the
listed persons written), as the median of the pairs' ratios with min and max; a single run
is never reported as a ratio. `validate` (ittai also checks every input row, which DuckDB
does not do) and `full` are single runs, reported as times.

Writes benches/results/scale_<UTC date>.csv (one row per scale and system) and
benches/results/latest.md, and prints the ratios.
"""
import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FY = 2024


def measured(cmd, env=None):
    """Runs cmd with wait4 to get its own peak RSS. Returns (wall s, peak MiB, stdout)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        o, e = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(o + e)
        raise SystemExit(f"failed ({code}): {' '.join(map(str, cmd))}")
    return wall, ru.ru_maxrss / 1024.0, o


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    import duckdb
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "os": f"{platform.system()} {platform.release()}",
        "rustc": rustc,
        "duckdb": duckdb.__version__,
        "commit": commit,
    }


def dir_bytes(d):
    return sum(f.stat().st_size for f in Path(d).rglob("*") if f.is_file())


def table_rows(d):
    import duckdb
    rows = {}
    for f in sorted(Path(d).glob("*.parquet")):
        rows[f.stem] = duckdb.sql(f"SELECT num_rows FROM parquet_file_metadata('{f}')").fetchall()[0][0]
    return rows


def generator_hash():
    h = hashlib.sha256()
    for p in sorted((ROOT / "crates/ittai-synth").rglob("*")):
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="10000,100000,1000000")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/ittai-bench"))
    ap.add_argument("--ingest", default="", help="scales at which to also measure ittai ingest (e.g. 100000)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--pairs", type=int, default=3, help="alternating ittai/DuckDB pairs per scale (at least 3 for a reported ratio)")
    ap.add_argument("--spark", action="store_true", help="also run the rules on Spark (local mode, a fresh Spark Connect server per scale; needs pyspark and Java 17)")
    ap.add_argument("--spark-memory", default="16g", help="driver memory of the local Spark server (--spark)")
    ap.add_argument("--no-full", action="store_true", help="skip the full job (lists, indicators, evaluation)")
    a = ap.parse_args()
    scales = [int(s) for s in a.scales.split(",") if s]
    ingest_scales = {int(s) for s in a.ingest.split(",") if s}
    target = Path(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/ittai-target")))
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    if not a.no_build:
        print("building release ...", flush=True)
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, env=env, check=True)
    ittai = str(target / "release" / "ittai")
    mach = machine()
    print("machine:", json.dumps(mach, ensure_ascii=False), flush=True)
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    gen = generator_hash()
    results = []
    summary = {}
    for n in scales:
        data = cache / f"p{n}_seed1"
        marker = data / ".generator"
        row = lambda system, **kw: results.append({"scale": n, "system": system, **kw})
        timing = data / ".generation.json"
        if not (marker.exists() and marker.read_text() == gen):
            shutil.rmtree(data, ignore_errors=True)
            print(f"[{n:,}] generating ...", flush=True)
            wall, rss, _ = measured([ittai, "synth", "--persons", str(n), "--seed", "1", "--first-fy", "2021", "--last-fy", str(FY), "--out", str(data), "--no-register"])
            marker.write_text(gen)
            timing.write_text(json.dumps({"wall_s": round(wall, 2), "peak_rss_mib": round(rss), "commit": mach["commit"]}))
            print(f"[{n:,}] synth {wall:.1f} s, {rss:.0f} MiB", flush=True)
        else:
            print(f"[{n:,}] cached population in {data}", flush=True)
        if timing.exists():
            g = json.loads(timing.read_text())
            row("synth", wall_s=g["wall_s"], peak_rss_mib=g["peak_rss_mib"], output_bytes=dir_bytes(data), note=f"measured when generated (commit {g['commit']})")
            summary.setdefault("synth", {})[n] = g["wall_s"]
        rows = table_rows(data)
        total_rows = sum(rows.values())
        in_bytes = sum(f.stat().st_size for f in data.glob("*.parquet"))
        with tempfile.TemporaryDirectory(prefix="ittai-bench-") as tmp:
            out = Path(tmp) / "out"

            def ittai_once(system, args):
                shutil.rmtree(out, ignore_errors=True)
                wall, rss, _ = measured([ittai, "run", "--data", str(data), "--fy", str(FY), "--out", str(out), "--format", "csv,parquet"] + args)
                m = json.loads((out / "manifest.json").read_text())
                t = m.get("timings_seconds", {})
                stages = {k: round(v, 2) for k, v in t.items() if "." not in k}
                row(system, wall_s=round(wall, 2), peak_rss_mib=round(rss), input_rows=total_rows, input_bytes=in_bytes,
                    rows_per_s=round(total_rows / wall), output_bytes=dir_bytes(out),
                    **{f"{k}_s": v for k, v in stages.items()},
                    **{f"{k}_rows_per_s": round(total_rows / v) for k, v in stages.items() if v > 0 and k != "total"})
                print(f"[{n:,}] {system}: {wall:.1f} s, {rss:.0f} MiB, stages {stages}", flush=True)
                return wall, rss

            listed_csv = Path(tmp) / "duck.csv"

            def duckdb_once(pair):
                wall, rss, o = measured([sys.executable, str(ROOT / "benches/duckdb_baseline.py"), str(data), "--fy", str(FY), "--out", str(listed_csv), "--threads", str(os.cpu_count()), "--ittai", ittai])
                duck = json.loads(o.strip().splitlines()[-1])
                listed_csv.with_suffix(".json").write_text(json.dumps(duck))
                row("duckdb", pair=pair, wall_s=round(wall, 2), peak_rss_mib=round(rss), input_rows=total_rows, input_bytes=in_bytes,
                    rows_per_s=round(total_rows / wall), query_s=duck["seconds"])
                print(f"[{n:,}] duckdb: {wall:.1f} s ({duck['seconds']:.1f} s in the query), {rss:.0f} MiB", flush=True)
                return wall, rss

            # The first run validates every row (single run: DuckDB does not validate, so no
            # ratio is reported for it).
            val_s, _ = ittai_once("ittai_validate", ["--revalidate", "--no-indicators", "--no-evaluation"])
            # Alternating pairs A B A B …: ittai (features, rules, lists; validation reused)
            # and DuckDB (the same features and rules, its lists written), same files and FY.
            ratios, runs, ducks = [], [], []
            for k in range(a.pairs):
                w_i, _ = ittai_once("ittai_run", ["--no-indicators", "--no-evaluation"])
                results[-1]["pair"] = k + 1
                w_d, _ = duckdb_once(k + 1)
                runs.append(w_i)
                ducks.append(w_d)
                ratios.append(w_i / w_d)
                print(f"[{n:,}] pair {k + 1}: ittai/DuckDB = {w_i / w_d:.2f}", flush=True)
            # The same persons, from the last pair's outputs.
            import duckdb
            ittai_listed = set(duckdb.sql(f"SELECT rule_id, person_id FROM read_parquet('{out}/targets_all.parquet')").fetchall())
            duck_listed = set(duckdb.sql(f"SELECT rule_id, person_id FROM read_csv('{listed_csv}', all_varchar=true)").fetchall())
            by_rule = {}
            for r in sorted({r for r, _ in ittai_listed | duck_listed}):
                i = {p for q, p in ittai_listed if q == r}
                d = {p for q, p in duck_listed if q == r}
                by_rule[r] = (len(i), len(d), len(i ^ d))
            same = all(x[2] == 0 for x in by_rule.values())
            print(f"[{n:,}] same persons: {same}", flush=True)
            if not same:
                for r, (i, d, x) in by_rule.items():
                    if x:
                        print(f"    {r}: ittai {i}, duckdb {d}, differ {x}")
            # The same attrition, native (manifest of the last pair) and DuckDB (its report).
            native_att = manifest_attrition(out / "manifest.json")
            duck_att = json.loads(listed_csv.with_suffix(".json").read_text())["attrition"]
            same_att = native_att == duck_att
            print(f"[{n:,}] same attrition (DuckDB): {same_att}", flush=True)
            same = same and same_att
            native_listed = ittai_listed
            spark = None
            if a.spark:
                spark = spark_once(ittai, data, Path(tmp) / "spark", n, a.spark_memory)
                spark_listed = set(duckdb.sql(f"SELECT rule_id, person_id FROM read_parquet('{Path(tmp) / 'spark'}/targets_all.parquet')").fetchall())
                spark["same"] = spark_listed == native_listed and manifest_attrition(Path(tmp) / "spark" / "manifest.json") == native_att
                print(f"[{n:,}] spark: {spark['wall_s']:.1f} s, server peak {spark['server_rss_mib']:.0f} MiB, same persons and attrition: {spark['same']}", flush=True)
                row("spark", wall_s=spark["wall_s"], peak_rss_mib=spark["server_rss_mib"], client_rss_mib=spark["client_rss_mib"],
                    input_rows=total_rows, input_bytes=in_bytes, rows_per_s=round(total_rows / spark["wall_s"]), same_persons=spark["same"],
                    spark_version=spark["version"], **{f"{k}_s": v for k, v in spark["stages"].items()})
            # The whole job: lists, indicators for every FY, programme evaluation.
            full_s, full_rss = (None, None) if a.no_full else ittai_once("ittai_full", [])
            for rr in results:
                if rr["scale"] == n and rr["system"] in ("ittai_run", "duckdb", "ittai_validate", "ittai_full"):
                    rr["same_persons"] = same
            med = statistics.median
            summary[n] = {"run": round(med(runs), 2), "run_spread": (round(min(runs), 1), round(max(runs), 1)),
                          "duckdb": round(med(ducks), 2), "duckdb_spread": (round(min(ducks), 1), round(max(ducks), 1)),
                          "ratio_run": round(med(ratios), 2), "ratio_spread": (round(min(ratios), 2), round(max(ratios), 2)),
                          "pairs": a.pairs, "validate": round(val_s, 2), "full": full_s and round(full_s, 2), "full_rss": full_rss and round(full_rss),
                          "same": same, "listed": {r: v[0] for r, v in by_rule.items()},
                          "run_rss": round(max(r["peak_rss_mib"] for r in results if r["scale"] == n and r["system"] == "ittai_run")),
                          "duckdb_rss": round(max(r["peak_rss_mib"] for r in results if r["scale"] == n and r["system"] == "duckdb")),
                          "spark": spark}
        if n in ingest_scales:
            summary[n].update(ingest(ittai, n, cache, results))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    res = ROOT / "benches" / "results"
    res.mkdir(parents=True, exist_ok=True)
    keys = []
    for r in results:
        for k in r:
            if k not in keys:
                keys.append(k)
    keys += list(mach.keys())
    # Every dated run is kept: a second run on the same day gets the time in its name.
    path = res / f"scale_{stamp}.csv"
    if path.exists():
        path = res / f"scale_{dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%dT%H%M')}.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in results:
            w.writerow({**r, **mach})
    md = [f"# Scale results, {stamp}", "", "Machine: " + ", ".join(f"{k} {v}" for k, v in mach.items()), "",
          "ittai run (features, ten rules, lists; validation reused) and the DuckDB baseline (the same features and rules as SQL, lists written) "
          "alternate A B A B …; the ratio is the median of the pairs' ratios with its min–max. The first run (validation of every row) and the "
          "full job (lists, indicators for every FY, programme evaluation) are single runs.", "",
          "| persons | pairs | ittai run (s, median [min–max]) | DuckDB (s) | ratio ittai/DuckDB (median [min–max]) | first run with validation (s) | full job (s) | peak RSS full (MiB) | same persons |",
          "|---|---|---|---|---|---|---|---|---|"]
    synth = summary.pop("synth", {})
    for n, s in summary.items():
        md.append(f"| {n:,} | {s['pairs']} | {s['run']} [{s['run_spread'][0]}–{s['run_spread'][1]}] | {s['duckdb']} [{s['duckdb_spread'][0]}–{s['duckdb_spread'][1]}] | "
                  f"{s['ratio_run']} [{s['ratio_spread'][0]}–{s['ratio_spread'][1]}] | {s['validate']} | {s['full']} | {s['full_rss']} | {s['same']} |")
    ns = sorted(k for k in summary if isinstance(k, int) and summary[k]["full"])
    for lo, hi in zip(ns, ns[1:]):
        f = summary[hi]["full"] / summary[lo]["full"]
        md.append("")
        md.append(f"Time growth {lo:,} → {hi:,} persons (×{hi / lo:g}): full job ×{f:.2f}, run ×{summary[hi]['run'] / summary[lo]['run']:.2f}, DuckDB ×{summary[hi]['duckdb'] / summary[lo]['duckdb']:.2f}.")
    if synth:
        md.append("")
        md.append("Generation (ittai synth, 4 FYs): " + ", ".join(f"{n:,} persons {w} s" for n, w in sorted(synth.items())) + ".")
    spark_rows = [(n, s) for n, s in summary.items() if isinstance(s, dict) and s.get("spark")]
    if spark_rows:
        md += ["", "The same rules on three engines (the SQL of `ittai sql`, generated from the same rule files, for DuckDB and Spark; "
               "Spark in local mode on this machine, a fresh Spark Connect server per scale, one run; peak memory of the server JVM):", "",
               "| persons | ittai native run (s) | peak (MiB) | DuckDB (s) | peak (MiB) | Spark local (s) | Spark server peak (MiB) | Spark version | same persons and attrition |",
               "|---|---|---|---|---|---|---|---|---|"]
        for n, s in spark_rows:
            sp = s["spark"]
            md.append(f"| {n:,} | {s['run']} | {s['run_rss']} | {s['duckdb']} | {s['duckdb_rss']} | {sp['wall_s']} | {sp['server_rss_mib']} | {sp['version']} | {s['same'] and sp['same']} |")
    for n, s in summary.items():
        if "ingest_lines_per_s" in s:
            md.append("")
            md.append(f"Ingest at {n:,} persons: {s['ingest_lines']:,} receipt lines in {s['ingest_s']} s = {s['ingest_lines_per_s']:,} lines/s "
                      f"(whole ingest of receipts, checkups, register and care data; peak {s['ingest_rss']} MiB).")
    md.append("")
    flags = (f" --ingest {a.ingest}" if a.ingest else "") + (" --spark" if a.spark else "") + (" --no-full" if a.no_full else "")
    md.append(f"Raw figures: {path.name}. Command: `python3 benches/harness.py --scales {a.scales} --pairs {a.pairs}{flags}`")
    (res / "latest.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


def manifest_attrition(path):
    """Rule id → [[persons, insufficient_coverage] per step] from a run's manifest."""
    m = json.loads(Path(path).read_text())
    return {r["id"]: [[s["persons"], s["insufficient_coverage"]] for s in r["attrition"][1:]] for r in m["rules"]}


def spark_once(ittai, data, out, n, memory):
    """Starts a Spark Connect server in local mode on 127.0.0.1, runs `ittai run --engine spark`
    once, reads the server JVM's peak resident memory (VmHWM), stops the server."""
    import pyspark
    import socket
    spark_home = Path(pyspark.__file__).parent
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(Path(tempfile.gettempdir()) / f"ittai-bench-spark-{n}.log", "w")
    server = subprocess.Popen([str(spark_home / "bin/spark-submit"), "--master", f"local[{os.cpu_count()}]",
                               "--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "--driver-memory", memory,
                               "--conf", "spark.connect.grpc.binding.address=127.0.0.1", "--conf", f"spark.connect.grpc.binding.port={port}",
                               "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                               "--conf", "spark.ui.enabled=false", "spark-internal"],
                              stdout=log, stderr=log, env=dict(os.environ, SPARK_LOCAL_IP="127.0.0.1"))
    try:
        for _ in range(240):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(1)
        wall, rss, _ = measured([ittai, "run", "--engine", "spark", "--spark-remote", f"sc://127.0.0.1:{port}", "--data", str(data),
                                 "--fy", str(FY), "--out", str(out), "--format", "csv,parquet", "--no-indicators", "--no-evaluation"])
        hwm = 0
        for line in open(f"/proc/{server.pid}/status"):
            if line.startswith("VmHWM"):
                hwm = int(line.split()[1]) / 1024
    finally:
        server.terminate()
        server.wait()
        log.close()
    m = json.loads((out / "manifest.json").read_text())
    stages = {k: round(v, 2) for k, v in m["timings_seconds"].items()}
    return {"wall_s": round(wall, 2), "server_rss_mib": round(hwm), "client_rss_mib": round(rss), "version": m["spark_version"], "stages": stages}


def ingest(ittai, n, cache, results):
    data = cache / f"p{n}_seed1"
    std = data / "standard"
    marker = std / ".done"
    if not marker.exists():
        print(f"[{n:,}] writing the standard formats (cached) ...", flush=True)
        shutil.rmtree(std, ignore_errors=True)
        # synth --format writes next to the Parquet tables; regenerate into a scratch copy.
        scratch = cache / f"p{n}_std_tmp"
        shutil.rmtree(scratch, ignore_errors=True)
        measured([ittai, "synth", "--persons", str(n), "--seed", "1", "--first-fy", "2021", "--last-fy", str(FY), "--out", str(scratch), "--format", "uke,xml", "--no-register"])
        shutil.move(str(scratch / "standard"), str(std))
        shutil.rmtree(scratch, ignore_errors=True)
        marker.write_text("ok")
    key = cache / "bench.key"
    if not key.exists():
        key.write_text("benchmark-key-not-secret-0123456789")
    with tempfile.TemporaryDirectory(prefix="ittai-ingest-") as tmp:
        wall, rss, _ = measured([ittai, "ingest", "--id-key-file", str(key), "--persons", str(std / "persons.csv"),
                                 "--certifications", str(std / "certifications.csv"), "--care-claims", str(std / "care_claims.csv"),
                                 "--uke", str(std / "uke"), "--kenshin", str(std / "kenshin"), "--out", tmp])
        s = json.loads((Path(tmp) / "ingest_summary.json").read_text())
    lines = s["receipts"]["lines"]
    results.append({"scale": n, "system": "ittai_ingest", "wall_s": round(wall, 2), "peak_rss_mib": round(rss),
                    "input_rows": lines, "input_bytes": dir_bytes(std), "rows_per_s": round(lines / wall)})
    print(f"[{n:,}] ingest: {lines:,} receipt lines in {wall:.1f} s = {lines / wall:,.0f} lines/s, {rss:.0f} MiB", flush=True)
    return {"ingest_s": round(wall, 1), "ingest_lines": lines, "ingest_lines_per_s": round(lines / wall), "ingest_rss": round(rss)}


if __name__ == "__main__":
    main()
