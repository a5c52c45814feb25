"""Where pass one's time goes: ways to find the citers in one works file, on one thread.

    .venv/bin/python -m benchmarks.snapshot --profile-only            # the 5M-works cache's 2nd file
    .venv/bin/python -m benchmarks.snapshot --profile-only --rounds 5 --hit-rates 200 20000

Each way reads `id` and `referenced_works` of one Parquet file and returns the ids of the works
that cite a target; the CPU time per work (this process, one DuckDB thread, pyarrow without
threads) is the best of `rounds` rounds, each round running every way once in turn, so that a
burst of load on the shared machine falls on all of them alike. Each way's ids are compared with
the brute-force answer (plain Python over pyarrow lists). Then the main ways again with more
target ids (a larger share of works citing one), and snappy decompressing the same strings: a
floor for any reader of the file as written.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

URL = "https://openalex.org/W"
Way = Callable[[], set[str] | None]

_UNNEST = "SELECT id, unnest(referenced_works) AS ref FROM read_parquet($f{opts})"
DUCKDB_WAYS = {
    "DuckDB: decode the column only": (
        "SELECT sum(len(referenced_works)) FROM read_parquet($f{opts})",
        "",
    ),
    "DuckDB: decode the column only, utf8_validation='ignore'": (
        "SELECT sum(len(referenced_works)) FROM read_parquet($f{opts})",
        ", utf8_validation='ignore'",
    ),
    "DuckDB: unnest, hash join": (
        f"SELECT DISTINCT r.id FROM ({_UNNEST}) r JOIN targets t ON r.ref = t.ref",  # noqa: S608 - fixed text
        "",
    ),
    "DuckDB: unnest, semi-join (IN)": (
        f"SELECT DISTINCT id FROM ({_UNNEST}) WHERE ref IN (SELECT ref FROM targets)",  # noqa: S608 - fixed text
        "",
    ),
    "DuckDB: hash join, utf8_validation='ignore'": (
        f"SELECT DISTINCT r.id FROM ({_UNNEST}) r JOIN targets t ON r.ref = t.ref",  # noqa: S608 - fixed text
        ", utf8_validation='ignore'",
    ),
    "DuckDB: semi-join, utf8_validation='ignore'": (
        f"SELECT DISTINCT id FROM ({_UNNEST}) WHERE ref IN (SELECT ref FROM targets)",  # noqa: S608 - fixed text
        ", utf8_validation='ignore'",
    ),
    "DuckDB: numeric tail IN, prefix on hits": (
        f"SELECT DISTINCT id FROM ({_UNNEST}) WHERE "  # noqa: S608 - fixed text
        "try_cast(ref[23:] AS UBIGINT) IN (SELECT n FROM target_nums) "
        "AND starts_with(ref, 'https://openalex.org/W')",
        "",
    ),
    "DuckDB: hash() IN, exact check on hits": (
        f"SELECT DISTINCT id FROM ({_UNNEST}) WHERE "  # noqa: S608 - fixed text
        "hash(ref) IN (SELECT h FROM target_hashes) AND ref IN (SELECT ref FROM targets)",
        "",
    ),
    "DuckDB: list_has_any per row (filter in the scan)": (
        "SELECT id FROM read_parquet($f{opts}) WHERE list_has_any(referenced_works, $t)",
        "",
    ),
}
# The ways run again at larger hit rates (more target ids).
AT_RATES = (
    "tracer's pass one (DuckDBEngine.find_hits)",
    "DuckDB: unnest, hash join",
    "DuckDB: semi-join, utf8_validation='ignore'",
    "DuckDB: list_has_any per row (filter in the scan)",
    "pyarrow: iter_batches, is_in on the flat values",
)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def brute_force(path: str, refs: set[str]) -> set[str]:
    out: set[str] = set()
    for batch in pq.ParquetFile(path).iter_batches(50_000, columns=["id", "referenced_works"]):
        ids, lists = batch.column(0).to_pylist(), batch.column(1).to_pylist()
        for wid, row in zip(ids, lists, strict=True):
            if row and not refs.isdisjoint(row):
                out.add(wid)
    return out


def ways(path: str, refs: list[str]) -> tuple[dict[str, Way], Callable[[], None]]:
    """The ways to find the citers of `refs` (full URLs) in `path`, and a closer."""
    import duckdb

    con = duckdb.connect(config={"threads": 1, "preserve_insertion_order": False})
    con.execute("SET enable_progress_bar = false")
    short = [r.rsplit("/", 1)[-1] for r in refs]
    con.execute("CREATE TEMP TABLE targets AS SELECT unnest($r) AS ref", {"r": refs + short})
    con.execute(
        "CREATE TEMP TABLE target_nums AS SELECT unnest($n)::UBIGINT AS n",
        {"n": [int(s[1:]) for s in short]},
    )
    con.execute("CREATE TEMP TABLE target_hashes AS SELECT hash(ref) AS h FROM targets")
    out: dict[str, Way] = {}
    for name, (sql, opts) in DUCKDB_WAYS.items():
        text = sql.format(opts=opts)
        params: dict[str, Any] = {"f": path, **({"t": refs} if "$t" in text else {})}

        def run(text: str = text, params: dict[str, Any] = params, name: str = name) -> Any:
            rows = con.execute(text, params).fetchall()
            return None if "decode" in name else {r[0] for r in rows}

        out[name] = run
    value_set = pa.array(refs)

    def hits_of(ids: pa.Array, lists: pa.Array) -> set[str]:
        lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
        mask = pc.is_in(lists.flatten(), value_set=value_set)
        rows = np.unique(pc.list_parent_indices(lists).to_numpy()[mask.to_numpy(False)])
        ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        return set(ids.take(pa.array(rows, pa.int64())).to_pylist())

    def arrow_table() -> set[str]:
        table = pq.read_table(path, columns=["id", "referenced_works"], use_threads=False)
        return hits_of(table.column(0), table.column(1))

    def arrow_batches(size: int = 0, match: bool = True, **options: Any) -> Way:
        def run() -> set[str] | None:
            found: set[str] = set()
            pf = pq.ParquetFile(path, **options)
            rows = size or pf.metadata.row_group(0).num_rows
            for batch in pf.iter_batches(rows, columns=["id", "referenced_works"],
                                         use_threads=False):  # fmt: skip
                if match:
                    found |= hits_of(batch.column(0), batch.column(1))
            return found if match else None

        return run

    def arrow_dictionary() -> set[str]:
        found: set[str] = set()
        pf = pq.ParquetFile(path, read_dictionary=["referenced_works.list.element"],
                            pre_buffer=True)  # fmt: skip
        for batch in pf.iter_batches(pf.metadata.row_group(0).num_rows,
                                     columns=["id", "referenced_works"], use_threads=False):  # fmt: skip
            lists = batch.column(1)
            values = lists.flatten()  # a DictionaryArray: match the dictionary, then the codes
            hit_codes = pc.is_in(values.dictionary, value_set=value_set)
            mask = pc.take(hit_codes, values.indices).to_numpy(False)
            rows = np.unique(pc.list_parent_indices(lists).to_numpy()[mask])
            found |= set(batch.column(0).take(pa.array(rows, pa.int64())).to_pylist())
        return found

    out["tracer's pass one (DuckDBEngine.find_hits)"] = _engine(path, refs)
    out["pyarrow: read_table, is_in"] = arrow_table
    out["pyarrow: iter_batches, is_in on the flat values"] = arrow_batches(pre_buffer=True)
    out["pyarrow: iter_batches, no pre_buffer"] = arrow_batches(pre_buffer=False)
    out["pyarrow: iter_batches of 16,384 works"] = arrow_batches(16_384, pre_buffer=True)
    out["pyarrow: iter_batches, decode only"] = arrow_batches(match=False, pre_buffer=True)
    out["pyarrow: read_dictionary, is_in on the dictionary"] = arrow_dictionary
    return out, con.close


def _engine(path: str, refs: list[str]) -> Way:
    """tracer's own pass one on the file, one thread: unnest, hash join on the targets, each
    hit's reference list kept for pass two."""
    import duckdb

    from tracer.snapshot.duckdb_engine import DuckDBEngine
    from tracer.snapshot.layout import Layout, SnapshotFile
    from tracer.snapshot.query import CiterQuery

    files = [SnapshotFile(path, "2025-01-01")]
    layout = Layout(root=path, format="parquet", works_dir=path, files=files, manifest=None)
    con = duckdb.connect(config={"threads": 1, "preserve_insertion_order": False})
    con.execute("SET enable_progress_bar = false")
    engine = DuckDBEngine(con, layout)
    query = CiterQuery.build({"x": [r.rsplit("/", 1)[-1] for r in refs]}, {})

    def run() -> set[str]:
        return {row[0] for row in engine.find_hits(files, query, lambda *a: None)}

    return run


def snappy_floor(path: str) -> Callable[[], None]:
    """Snappy alone on the same strings in 1 MB pages: no reader of this file gets under it."""
    strings = pq.read_table(path, columns=["referenced_works"]).column(0).combine_chunks()
    data = strings.flatten().buffers()[2].to_pybytes()
    codec = pa.Codec("snappy")
    pages = [data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20)]
    packed = [codec.compress(page, asbytes=True) for page in pages]

    def run() -> None:
        for comp, page in zip(packed, pages, strict=True):
            codec.decompress(comp, decompressed_size=len(page))

    return run


# Ways that lose by 3x or more: one round is enough to say so (and spares the shared machine).
SLOW = ("numeric tail", "list_has_any", "read_dictionary")


def measure(named: dict[str, Way], rows: int, rounds: int, expected: set[str]
            ) -> list[dict[str, Any]]:  # fmt: skip
    best = dict.fromkeys(named, float("inf"))
    equal = dict.fromkeys(named, True)
    for n in range(rounds):
        for name, run in named.items():
            if n and any(word in name for word in SLOW):
                continue
            c0 = cpu_seconds()
            got = run()
            best[name] = min(best[name], cpu_seconds() - c0)
            if got is not None:
                equal[name] = equal[name] and {w.rsplit("/", 1)[-1] for w in got} == {
                    w.rsplit("/", 1)[-1] for w in expected
                }
    return [
        {"way": n, "us_per_work": best[n] / rows * 1e6, "works_per_cpu_s": rows / best[n],
         "equal": equal[n] if "decode" not in n and "snappy" not in n else None,
         "rounds": 1 if any(word in n for word in SLOW) else rounds}
        for n in named
    ]  # fmt: skip


def targets_at(count: int, works: int, base: int, given: list[str]) -> list[str]:
    """`count` target URLs: the given ones, then works' own ids spread over the id range."""
    extra = max(0, count - len(given))
    step = max(1, works // max(1, extra))
    return given + [f"{URL}{base + 1 + i * step}" for i in range(extra)][:extra]


def profile(
    path: str, refs: list[str], *, rounds: int = 3, rates: tuple[int, ...] = (), works: int = 0,
    base: int = 0,
) -> dict[str, Any]:
    """The table of ways on `path` for `refs`, and the main ways again for each count of target
    ids in `rates` (drawn over `works` ids from `base`)."""
    rows = pq.ParquetFile(path).metadata.num_rows
    named, close = ways(path, refs)
    expected = brute_force(path, set(refs))
    table = measure({**named, "snappy: decompress the strings only": _none(snappy_floor(path))},
                    rows, rounds, expected)  # fmt: skip
    close()
    print_profile({"works": rows, "rounds": rounds, "ways": table, "by_rate": []}, flush=True)
    by_rate = []
    for count in rates:
        wanted = targets_at(count, works, base, refs)
        named, close = ways(path, wanted)
        expected = brute_force(path, set(wanted))
        # list_has_any builds a set of every target id per row: past a few thousand ids it
        # takes minutes a file, so it is measured at the smaller counts only.
        chosen = {k: v for k, v in named.items()
                  if k in AT_RATES and (count <= 2000 or "list_has_any" not in k)}  # fmt: skip
        for row in measure(chosen, rows, rounds, expected):
            by_rate.append({"targets": count, "hit_share": len(expected) / rows, **row})
        close()
        print_rates(by_rate[-len(chosen):])
    return {"file": path, "works": rows, "rounds": rounds, "ways": table, "by_rate": by_rate}


def _none(run: Callable[[], None]) -> Way:
    def way() -> None:
        run()
        return None

    return way


def print_profile(result: dict[str, Any], flush: bool = False) -> None:
    print(f"Where pass one's time goes ({result['works']:,} works in one file, one thread, CPU "
          f"time per work, best of {result['rounds']} alternating rounds; 'equal' = the same "
          "citers as brute force; ways 3x slower or more: one round):", flush=flush)  # fmt: skip
    for r in result["ways"]:
        ok = {True: "equal", False: "DIFF", None: ""}[r["equal"]]
        print(f"  {r['way']:52} {r['us_per_work']:6.2f} us/work {r['works_per_cpu_s']:>11,.0f} "
              f"works/cpu-s  {ok}", flush=flush)  # fmt: skip
    if result["by_rate"]:
        print_rates(result["by_rate"])


def print_rates(rows: list[dict[str, Any]]) -> None:
    print("At larger hit rates (more target ids):", flush=True)
    for r in rows:
        ok = "equal" if r["equal"] else "DIFF"
        print(f"  {r['targets']:>6} ids, {r['hit_share']:6.1%} of works cite one: "
              f"{r['way']:50} {r['us_per_work']:6.2f} us/work  {ok}", flush=True)  # fmt: skip
