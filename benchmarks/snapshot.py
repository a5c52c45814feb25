"""The OpenAlex snapshot reader at scale: a synthetic Parquet snapshot of millions of works.

    .venv/bin/python -m benchmarks.snapshot                      # 5,000,000 works, DuckDB and Spark
    .venv/bin/python -m benchmarks.snapshot --works 200000 --engines duckdb
    .venv/bin/python -m benchmarks.snapshot --quick              # 60,000 works (CI)

The snapshot is built once in chunks with pyarrow (one file of --per-file works at a time, so
memory stays low) under --cache (default: the temp folder) in the real layout
(parquet/works/updated_date=D/part_NNNN.parquet and a manifest.json), and reused when its
parameters match. Each work has 0 to 60 references (about 30), drawn at random over the works
and --labels x 2 target ids (a catalog of --labels datasets, each with a preprint and a
proceedings version), so a few works in a thousand cite a target.

Each engine runs in its own process (peak memory is the run's alone) over every target at once;
pass one (id and referenced_works of every file) is timed from the progress callback. Printed:
works per second per core in pass one (wall time x the engine's threads, and works per CPU
second where the process can see the CPU), pass two (full records of the hits), total wall
time, peak memory, the projection to 270 million works on 16 cores, and whether the hits equal a
brute-force Python check (pyarrow + sets) on a sample of files. Targets, printed, not asserted:
pass one >= 1,000,000 works/s/core, peak memory < 4 GB, every label found in one pass.
Then (unless --no-profile; alone with --profile-only) where pass one's time goes: the CPU time
per work, on one file and one thread, of each way to find the citers, checked against brute
force, at this hit rate and at larger ones, down to snappy decompressing the same strings
(benchmarks/snapshot_profile.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.snapshot_profile import profile

URL = "https://openalex.org/W"
BASE_ID = 2_000_000_000  # synthetic works are W2000000001...
PARTITIONS = 10
TARGET_CORES = 16
TARGET_WORKS = 270_000_000


def params(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "works": args.works,
        "per_file": args.per_file,
        "labels": args.labels,
        "max_refs": args.max_refs,
        "seed": 17,
        "version": 1,
    }


def target_ids(labels: int, works: int) -> dict[str, list[str]]:
    """Label -> its two W ids, just above the works' own ids so references can draw them."""
    first = BASE_ID + works + 1
    return {f"ds{i:03d}": [f"W{first + 2 * i}", f"W{first + 2 * i + 1}"] for i in range(labels)}


def build(cache: Path, p: dict[str, Any], log: Any) -> Path:
    """The snapshot's data folder; built only when the cached one has other parameters."""
    data = cache / "data"
    stamp = cache / "params.json"
    if stamp.exists() and json.loads(stamp.read_text()) == p:
        return data
    shutil.rmtree(cache, ignore_errors=True)
    works_dir = data / "parquet" / "works"
    pool = p["works"] + 2 * p["labels"]  # what a reference may point at
    entries = []
    start = time.perf_counter()
    files = (p["works"] + p["per_file"] - 1) // p["per_file"]
    for n in range(files):
        first = n * p["per_file"]
        rows = min(p["per_file"], p["works"] - first)
        partition = f"2025-{1 + n * PARTITIONS // files:02d}-01"
        path = works_dir / f"updated_date={partition}" / f"part_{n:04d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            _chunk(first, rows, pool, p, seed=p["seed"] + n), path, row_group_size=100_000
        )
        entries.append(
            {
                "url": f"s3://openalex/data/parquet/works/updated_date={partition}/{path.name}",
                "meta": {"content_length": path.stat().st_size, "record_count": rows},
            }
        )
        log(f"  built {path.name} ({first + rows:,} of {p['works']:,} works)")
    (data / "parquet" / "manifest.json").write_text(json.dumps({"entries": entries}))
    stamp.write_text(json.dumps(p))
    log(f"  built in {time.perf_counter() - start:.0f} s")
    return data


def _chunk(first: int, rows: int, pool: int, p: dict[str, Any], seed: int) -> pa.Table:
    """`rows` works with vectorised random references (pyarrow compute, no Python loop)."""
    nums = pa.array(range(BASE_ID + first + 1, BASE_ID + first + rows + 1), pa.int64())
    text = pc.cast(nums, pa.string())
    ids = pc.binary_join_element_wise(URL, text, "")
    lengths = pc.cast(
        pc.floor(pc.multiply(pc.random(rows, initializer=seed), p["max_refs"] + 1)), pa.int32()
    )
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(lengths)])
    total = offsets[-1].as_py()
    picks = pc.cast(
        pc.floor(pc.multiply(pc.random(total, initializer=seed + 10**6), pool)), pa.int64()
    )
    refs = pc.binary_join_element_wise(URL, pc.cast(pc.add(picks, BASE_ID + 1), pa.string()), "")
    authorships = pc.binary_join_element_wise(
        '[{"author_position":"first","author":{"id":"https://openalex.org/A',
        text,
        '","display_name":"Author ',
        text,
        '"},"raw_affiliation_strings":["Institute ',
        pc.cast(pc.bit_wise_and(nums, 63), pa.string()),
        ', Somewhere"],"institutions":[]}]',
        "",
    )
    return pa.table(
        {
            "id": ids,
            "doi": pc.binary_join_element_wise("https://doi.org/10.9999/w", text, ""),
            "title": pc.binary_join_element_wise("A synthetic work number ", text, ""),
            "publication_year": pc.add(pc.bit_wise_and(nums, 15), 2010),
            "referenced_works": pa.ListArray.from_arrays(offsets, refs),
            "authorships": authorships,
        }
    )


# -- one engine run, in its own process ----------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    from tracer.snapshot import find_citers

    p = params(args)
    marks: dict[str, dict[str, float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = {"wall": time.perf_counter(), "cpu": _cpu_seconds()}
        if done == 0:
            marks[stage] = {"wall0": now["wall"], "cpu0": now["cpu"]}
        if done == total:
            marks[stage].update(wall1=now["wall"], cpu1=now["cpu"])

    start = time.perf_counter()
    result = find_citers(
        args.data,
        target_ids(p["labels"], p["works"]),
        engine=args.child,
        memory_limit=args.memory_limit,
        spill_dir=args.spill_dir,
        threads=args.threads,
        progress=progress,
    )
    wall = time.perf_counter() - start
    own = _peak_kb(os.getpid())
    kids = max([_peak_kb(pid) for pid in _children()] or [0])
    out = {
        "engine": args.child,
        "wall_s": wall,
        "stages": {
            k: {"wall_s": v["wall1"] - v["wall0"], "cpu_s": v["cpu1"] - v["cpu0"]}
            for k, v in marks.items()
            if "wall1" in v
        },
        "peak_mb_self": own / 1024,
        "peak_mb_children": kids / 1024,
        "threads": args.threads or os.cpu_count(),
        "hits": {c.id: c.labels for c in result.citers},
        "files": {c.id: c.file for c in result.citers},
        "labels_found": len(result.by_label()),
    }
    Path(args.out).write_text(json.dumps(out))


def _children() -> list[int]:
    """This process's children (Spark's JVM), from /proc."""
    me, out = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                out.append(int(entry.name))
    return out


def _peak_kb(pid: int) -> int:
    """VmHWM: the process's own peak resident memory (ru_maxrss would carry over the parent's
    across fork and exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds() -> float:
    """CPU time of this process and of its live children (Spark's JVM)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _children():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def brute_force(files: list[str], targets: dict[str, list[str]]) -> dict[str, list[str]]:
    """The hits of `files` by plain Python over pyarrow columns: the reference answer."""
    label_of = {URL[:-1] + w: label for label, ids in targets.items() for w in ids}
    out: dict[str, list[str]] = {}
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(50_000, columns=["id", "referenced_works"]):
            ids, lists = batch.column(0).to_pylist(), batch.column(1).to_pylist()
            for wid, refs in zip(ids, lists, strict=True):
                labels = sorted({label_of[r] for r in refs or [] if r in label_of})
                if labels:
                    out[wid.rsplit("/", 1)[-1]] = labels
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--works", type=int, default=5_000_000)
    ap.add_argument("--per-file", type=int, default=400_000, help="works per file (real: 400,000)")
    ap.add_argument("--labels", type=int, default=100, help="catalog datasets (2 versions each)")
    ap.add_argument("--max-refs", type=int, default=60, help="references: uniform 0..N")
    ap.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "tracer-snapshot-bench"))
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--spill-dir", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--sample-files", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="60,000 works, DuckDB only (CI)")
    ap.add_argument("--no-profile", action="store_true", help="skip the one-file cost profile")
    ap.add_argument("--profile-only", action="store_true", help="the one-file profile alone")
    ap.add_argument("--rounds", type=int, default=3, help="profile rounds (best of)")
    ap.add_argument("--hit-rates", type=int, nargs="*", default=[2000, 20000],
                    help="profile the main ways again with this many target ids")
    ap.add_argument("--json", dest="json_out", default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.works, args.per_file, args.engines = 60_000, 20_000, ["duckdb"]
        args.cache = str(Path(args.cache).with_name(Path(args.cache).name + "-quick"))
    if args.child:
        child(args)
        return 0

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    p = params(args)
    log(f"Synthetic snapshot: {p['works']:,} works, {p['labels']} datasets x 2 versions")
    data = build(Path(args.cache), p, log)
    files = sorted(str(f) for f in (data / "parquet" / "works").glob("*/*.parquet"))
    size = sum(Path(f).stat().st_size for f in files)
    column_bytes = _column_bytes(files, ("id", "referenced_works"))
    refs = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    targets = target_ids(p["labels"], p["works"])
    sample = files[: args.sample_files]
    expected = {} if args.profile_only else brute_force(sample, targets)
    results = []
    for engine in [] if args.profile_only else args.engines:
        if engine == "spark" and shutil.which("java") is None:
            log("spark: skipped, no Java")
            continue
        out = Path(args.cache) / f"result-{engine}.json"
        cmd = [sys.executable, "-m", "benchmarks.snapshot", "--child", engine, "--data", str(data),
               "--out", str(out), "--works", str(args.works), "--per-file", str(args.per_file),
               "--labels", str(args.labels), "--max-refs", str(args.max_refs),
               "--memory-limit", args.memory_limit]  # fmt: skip
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.spill_dir:
            cmd += ["--spill-dir", args.spill_dir]
        log(f"{engine}: running")
        subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parents[1])
        res = json.loads(out.read_text())
        got = {k: v for k, v in res["hits"].items() if res["files"][k] in set(sample)}
        res["sample_ok"] = got == expected
        res["sample_hits"] = len(expected)
        results.append(res)
    if results:
        report(p, results, files, size, column_bytes, refs)
    costs: dict[str, Any] = {}
    if not args.no_profile:
        costs = profile(files[min(1, len(files) - 1)], [URL[:-1] + w for ids in targets.values()
                        for w in ids], rounds=args.rounds, rates=tuple(args.hit_rates),
                        works=p["works"], base=BASE_ID)  # fmt: skip
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps({"params": p, "results": results, "profile": costs}, indent=2)
        )
    return 0


def _column_bytes(files: list[str], columns: tuple[str, ...]) -> int:
    total = 0
    for path in files:
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                col = group.column(c)
                if col.path_in_schema.split(".")[0] in columns:
                    total += col.total_compressed_size
    return total


def report(
    p: dict[str, Any],
    results: list[dict[str, Any]],
    files: list[str],
    size: int,
    column_bytes: int,
    works: int,
) -> None:
    print(f"Synthetic Parquet snapshot: {works:,} works in {len(files)} files, {size / 1e9:.2f} GB; "
          f"id + referenced_works {column_bytes / 1e9:.2f} GB compressed; "
          f"{p['labels']} datasets x 2 target ids; machine: {os.cpu_count()} cores (shared)")  # fmt: skip
    head = (f"{'engine':7} {'pass 1 s':>9} {'works/s/core':>13} {'works/cpu-s':>12} "
            f"{'pass 2 s':>9} {'total s':>8} {'peak MB':>8} {'hits':>6} {'labels':>7} "
            f"{'sample':>7} {'270M on 16 cores':>17}")  # fmt: skip
    print(head)
    for r in results:
        one = r["stages"].get("citations", {})
        wall1 = one.get("wall_s") or float("nan")
        per_core = works / wall1 / r["threads"]
        cpu = one.get("cpu_s") or 0.0
        per_cpu = f"{works / cpu:,.0f}" if cpu > 0 else "n/a"
        two = r["stages"].get("records", {}).get("wall_s", 0.0)
        peak = max(r["peak_mb_self"], r["peak_mb_children"])
        # CPU-bound projection from CPU seconds where known (a shared machine inflates wall time).
        rate = works / cpu if cpu > 0 else per_core
        projected = TARGET_WORKS / (rate * TARGET_CORES)
        print(f"{r['engine']:7} {wall1:9.2f} {per_core:13,.0f} {per_cpu:>12} {two:9.2f} "
              f"{r['wall_s']:8.2f} {peak:8.0f} {len(r['hits']):6} "
              f"{r['labels_found']:>3}/{p['labels']:<3} {'ok' if r['sample_ok'] else 'DIFF':>7} "
              f"{projected / 60:14.1f} min")  # fmt: skip
    print(f"Targets: pass 1 >= 1,000,000 works/s/core; peak < 4,096 MB; {p['labels']}/{p['labels']} "
          "labels in one pass; sample = brute-force Python on the first files. The projection "
          "assumes pass 1 stays CPU-bound: at 270M works the two columns are about "
          f"{column_bytes / works * TARGET_WORKS / 1e9:.0f} GB to read.")  # fmt: skip
    print("works/s/core = works / pass-1 wall time / the engine's threads; works/cpu-s = works / "
          "the CPU seconds pass 1 used (the process and, for Spark, its JVM): on a shared machine "
          "the second is the fairer figure. Peak MB: the larger VmHWM of the engine's process "
          "and its JVM.")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
