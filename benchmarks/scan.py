"""Requests, time and memory of `tracer scan` and `tracer refresh`, beside the fewest requests
the APIs allow and beside a naive client, on one fake server, in one run.

    .venv/bin/python -m benchmarks.scan                    # 230, 2,500, 9,999 and 50,000 citers
    .venv/bin/python -m benchmarks.scan --quick            # 230 only (CI)
    .venv/bin/python -m benchmarks.scan --sizes 2500 --latency s2=0.05 --rate s2=1

For each size it builds a synthetic corpus (benchmarks/synthetic.py) of the measured dataset
plus two small companion datasets (so that "refresh the whole catalog" means something), serves
it from the fake S2 + OpenAlex server with the chosen latency and rate limit per source, and
measures, each in its own process (benchmarks/measure.py): the full scan of the dataset, the
naive client on the same corpus (benchmarks/naive.py), the first refresh of the whole catalog
(it writes the reports), a refresh with nothing changed, and a refresh after 1% new citers. Requests are counted twice, by the server's log and by tracer's
own HTTP client, and must agree. A table goes to stdout, everything to --json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import bounds
from benchmarks.synthetic import Shape, Synthetic, catalog
from benchmarks.table import render_table
from tests.fakeapi.common import Recorded
from tests.fakeapi.server import FakeApi, Fault

ROOT = Path(__file__).resolve().parents[1]
SHARED_ROR = ROOT.parent / "shared" / "data" / "ror" / "ror-data-partial_schema_v2.zip"
SIZES = (230, 2500, 9999, 50000)
QUICK_SIZES = (230,)
COMPANION_CITERS = 25
KEY = "bench-key"
NAIVE_BUDGET_S = 60.0
ALL_FORMATS = "csv,json,html,md,terminal"  # every format `tracer refresh --out` writes
# Issue 19's targets for the local work, at 50,000 citers.
TARGET_LOCAL_CPU_S = 15.0
TARGET_REPORTS_S = 5.0
TARGET_PEAK_MB = 400.0


class Pacer:
    """A source's latency and rate limit: the server holds each request until its slot."""

    def __init__(self, latency: float = 0.0, rate: float = 0.0) -> None:
        self.latency = latency
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def hold(self) -> None:
        wait = self.latency
        if self.interval:
            with self._lock:
                now = time.monotonic()
                slot = max(now, self._next)
                self._next = slot + self.interval
            wait += slot - now
        if wait > 0:
            time.sleep(wait)


class BenchApi(FakeApi):
    """The fake server with a pacer per source, answering without Nagle's delay."""

    def __init__(self, pacers: dict[str, Pacer]) -> None:
        super().__init__()
        self.pacers = pacers

    def start(self) -> BenchApi:
        super().start()
        assert self._server is not None
        # The handler writes headers and body apart; with Nagle on, each answer waits ~40 ms for
        # the client's delayed ACK, which would swamp the local costs measured here.
        self._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        return self

    def take_fault(self, method: str, path: str) -> Fault | None:
        pacer = self.pacers.get(source_of(path))
        if pacer is not None:
            pacer.hold()
        return super().take_fault(method, path)


def source_of(path: str) -> str:
    return "s2" if path.startswith("/graph/v1/") else "openalex"


def endpoint_of(request: Recorded) -> str:
    """The server's name for what a request asked (tracer's own names may differ)."""
    path = request.path
    if path.startswith("/graph/v1/"):
        rest = path[len("/graph/v1") :]
        if rest.endswith("/citations"):
            return "citations"
        for prefix, name in (("/paper/batch", "batch"), ("/snippet/search", "snippets"),
                             ("/paper/search", "search"), ("/author", "author"),
                             ("/paper/", "paper")):
            if rest.startswith(prefix):
                return name
        return rest
    rest = path[len("/openalex") :]
    if rest == "/works":
        keys = {c.partition(":")[0] for c in (request.param("filter") or "").split(",")}
        return "cites" if "cites" in keys else "doi-batch" if "doi" in keys else "works-list"
    return rest.split("/")[1] + "-record" if rest.count("/") >= 2 else rest


def server_counts(requests: list[Recorded]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for request in requests:
        per = out.setdefault(source_of(request.path), {})
        name = endpoint_of(request)
        per[name] = per.get(name, 0) + 1
    return out


def totals(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    return {source: sum(per.values()) for source, per in sorted(counts.items())}


def merged(counts: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for one in counts:
        for source, per in one.items():
            for endpoint, n in per.items():
                out.setdefault(source, {})
                out[source][endpoint] = out[source].get(endpoint, 0) + n
    return out


# -- one size ---------------------------------------------------------------------------------


class Bench:
    def __init__(self, size: int, args: argparse.Namespace, work: Path) -> None:
        self.size = size
        self.args = args
        self.work = work
        self.api = BenchApi(args.pacers)
        started = time.perf_counter()
        self.main = Synthetic(self.api.corpus, Shape(size))
        self.companions = [
            Synthetic(self.api.corpus, Shape(COMPANION_CITERS), index=i) for i in (1, 2)
        ]
        self.build_s = time.perf_counter() - started
        (work / "catalog.yaml").write_text(
            catalog([self.main, *self.companions]), encoding="utf-8"
        )
        self.data_dir = work / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("TRACER_") and k not in ("S2_API_KEY", "OPENALEX_API_KEY")}
        env.update(
            TRACER_DATA_DIR=str(self.data_dir),
            TRACER_DB=str(self.work / "tracer.db"),
            TRACER_CATALOG=str(self.work / "catalog.yaml"),
            TRACER_CONFIG=str(self.work / "no-config.toml"),
            TRACER_S2_API_URL=self.api.s2_url,
            TRACER_OPENALEX_API_URL=self.api.openalex_url,
            TRACER_RATE_LIMIT="0",  # the server paces; tracer's own pacing would double it
            S2_API_KEY=KEY,
            OPENALEX_API_KEY=KEY,
            PYTHONPATH=str(ROOT),
        )
        if self.args.ror is not None:
            env["TRACER_ROR_DUMP"] = str(self.args.ror)
        return env

    def child(self, kind: str, *argv: str) -> dict[str, Any]:
        out = self.work / "child.json"
        out.unlink(missing_ok=True)
        self.api.clear_requests()
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.measure", str(out), kind, *argv],
            env=self.env(), cwd=ROOT, capture_output=True, text=True,
            timeout=self.args.timeout,
        )
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"{kind} {' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        result["process_wall_s"] = time.perf_counter() - started
        result["server"] = server_counts(list(self.api.requests))
        return result

    def tracer(self, *argv: str, bound: bounds.Bound | None) -> dict[str, Any]:
        result = self.child("tracer", *argv)
        own = merged(result.pop("http_counts"))
        result["tracer_counts"] = own
        result["requests"] = sum(totals(result["server"]).values())
        result["agree"] = totals(own) == totals(result["server"])
        stages = result["stages"]
        result["local_cpu_s"] = sum(
            stages.get(s, {}).get("cpu_s", 0.0) for s in ("merge", "classify", "judge", "report")
        )
        if bound is not None:
            result["lower_bound"] = bound.to_dict()
            result["ratio_to_bound"] = result["requests"] / bound.total
        if result["exit_code"] != 0:
            result["error"] = f"exit code {result['exit_code']}"
        return result

    def papers_found(self) -> int:
        conn = sqlite3.connect(self.work / "tracer.db")
        try:
            row = conn.execute(
                "SELECT count(*) FROM dataset_papers WHERE dataset = ?", (self.main.ids.key,)
            ).fetchone()
        finally:
            conn.close()
        return int(row[0])

    def run(self) -> dict[str, Any]:
        self.api.start()
        try:
            return self._run()
        finally:
            self.api.stop()

    def _run(self) -> dict[str, Any]:
        key = self.main.ids.key
        phrase = f"{self.main.ids.name} dataset"
        out: dict[str, Any] = {"size": self.size, "corpus_build_s": self.build_s}
        before = bounds.count(self.api.corpus, self.main.ids, phrase)
        out["corpus"] = vars(before) | {"authors": self.main.facts.authors}
        prepare_ror(self.args.ror, self.data_dir)
        for companion in self.companions:  # stored first, so that refresh covers a catalog
            self.child("tracer", "scan", companion.ids.key, "--quiet")
        out["scan"] = _guard(
            lambda: self.tracer("scan", key, "--quiet", bound=bounds.scan_bound(before))
        )
        if "error" not in out["scan"]:
            out["scan"]["papers_found"] = self.papers_found()
        out["naive"] = _guard(self.naive)  # on the same corpus as the scan, before it grows
        out["reference"] = _guard(lambda: self.child("reference"))
        if has_refresh():
            reports = str(self.work / "reports")
            # The first refresh writes every dataset's reports (none exist yet), in every
            # format: measured apart, so that "nothing new" is the steady cron run.
            out["refresh_first"] = _guard(lambda: self.tracer(
                "refresh", "--all", "--out", reports, "--formats", ALL_FORMATS, "--quiet",
                bound=bounds.refresh_unchanged_bound(),
            ))
            out["refresh_unchanged"] = _guard(lambda: self.tracer(
                "refresh", "--all", "--out", reports, "--quiet",
                bound=bounds.refresh_unchanged_bound(),
            ))
            new = max(1, self.size // 100)
            this_year = datetime.now(UTC).year
            self.main.add_citers(new, years=(this_year, this_year))  # new citers are new papers
            after = bounds.count(self.api.corpus, self.main.ids, phrase)
            out["refresh_new"] = _guard(lambda: self.tracer(
                "refresh", "--all", "--out", reports, "--quiet",
                bound=bounds.refresh_new_bound(before, after),
            ) | {"new_citers": new})
        else:
            missing = {"error": "tracer refresh missing"}
            out["refresh_first"] = out["refresh_unchanged"] = out["refresh_new"] = missing
        return out

    def naive(self) -> dict[str, Any]:
        result = self.child(
            "naive", self.api.base_url, self.api.openalex_url, self.main.ids.doi,
            str(self.args.naive_budget),
        )
        run = result["naive"]
        result["requests"] = sum(totals(result["server"]).values())
        result["agree"] = result["requests"] == run["requests"]
        if run["capped"] and run["looked_up"]:
            rest = run["citers"] - run["looked_up"]
            result["extrapolated"] = {
                "from_papers": run["looked_up"],
                "of_papers": run["citers"],
                "requests": round(result["requests"] + rest * run["per_paper_requests"]),
                "wall_s": run["listing_s"] + run["lookups_s"] / run["looked_up"] * run["citers"],
            }
        return result


def _guard(measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A measurement that failed is reported as such; the others still run."""
    try:
        return measure()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc).strip().splitlines()[-1]}


def has_refresh() -> bool:
    """Asked of a fresh interpreter: the command line is imported there, not here."""
    proc = subprocess.run(
        [sys.executable, "-c", "import tracer.cli; print('refresh' in tracer.cli.cli.commands)"],
        cwd=ROOT, capture_output=True, text=True,
    )
    return proc.stdout.strip() == "True"


def prepare_ror(dump: Path | None, data_dir: Path) -> None:
    """Build the ROR index once per dump, copy it in: each run loads it, none builds it."""
    if dump is None:
        return
    from tracer.affiliations import gazetteer

    cache_dir = ROOT / "benchmarks" / "results" / "ror-cache"
    built = gazetteer.cache_path(cache_dir, dump)
    if not built.exists():
        subprocess.run(
            [sys.executable, "-c",
             "import sys; from pathlib import Path; from tracer.affiliations import gazetteer;"
             " gazetteer.load_or_build(Path(sys.argv[1]), Path(sys.argv[2]))",
             str(cache_dir), str(dump)],
            check=True, cwd=ROOT,
        )
    target = gazetteer.cache_path(data_dir, dump)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, target)


# -- output -----------------------------------------------------------------------------------


def local_lines(results: list[dict[str, Any]]) -> list[str]:
    """The local work beside issue 19's targets (set for 50,000 citers): the scan's local CPU
    (merge, classify, judge, report), every report format written, peak memory, and what the
    reference data alone holds."""
    lines = ["", f"Local work (issue 19 targets at 50,000 citers: scan local CPU <="
             f" {TARGET_LOCAL_CPU_S:.0f} s, every report format <= {TARGET_REPORTS_S:.0f} s,"
             f" peak <= {TARGET_PEAK_MB:.0f} MB):"]
    for res in results:
        scan, first, ref = (res.get(k) or {} for k in ("scan", "refresh_first", "reference"))
        size = res["size"]
        if "local_cpu_s" in scan:
            stages = " / ".join(
                f"{scan['stages'].get(s, {}).get('cpu_s', 0.0):.1f}"
                for s in ("merge", "classify", "judge", "report")
            )
            lines.append(f"  {size:>6} citers: scan local CPU {scan['local_cpu_s']:.1f} s"
                         f" (merge / classify / judge / report {stages}),"
                         f" peak {scan['peak_rss_mb']:.0f} MB")
        if "stages" in first:
            report_s = first["stages"].get("report", {}).get("cpu_s", 0.0)
            lines.append(f"  {size:>6} citers: every report format ({ALL_FORMATS}) written for"
                         f" {scan.get('papers_found', size)} papers (and 2 companions):"
                         f" {report_s:.1f} s CPU, peak {first['peak_rss_mb']:.0f} MB")
            per = first.get("formats") or {}
            if per:
                parts = [f"{name} {per[name]['cpu_s']:.2f}"
                         for name in ("model", *ALL_FORMATS.split(",")) if name in per]
                lines.append(f"  {size:>6} citers:   of which, CPU s: " + " / ".join(parts)
                             + " (model: the report built once for every format)")
        if "peak_rss_mb" in ref:
            lines.append(f"  {size:>6} citers: the reference data alone (interpreter, imports,"
                         f" ROR index and watchlist): peak {ref['peak_rss_mb']:.0f} MB, of which"
                         f" {ref['imports_rss_mb']:.0f} MB before the classifier loads")
    return lines


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "tracer"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "platform": platform.platform(),
            "commit": commit + (" (tracer/ has uncommitted changes)" if dirty else "")}


def parse_pacers(latency: list[str], rate: list[str]) -> dict[str, Pacer]:
    values: dict[str, dict[str, float]] = {"s2": {}, "openalex": {}}
    for name, items in (("latency", latency), ("rate", rate)):
        for item in items:
            source, sep, raw = item.partition("=")
            if not sep or source not in values:
                raise SystemExit(f"--{name} takes SOURCE=VALUE with SOURCE s2 or openalex")
            values[source][name] = float(raw)
    return {s: Pacer(v.get("latency", 0.0), v.get("rate", 0.0)) for s, v in values.items() if v}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="230 citers only, naive capped at 10 s")
    parser.add_argument("--sizes", type=int, nargs="+", help=f"citing papers (default {SIZES})")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/latest.json")
    parser.add_argument("--latency", action="append", default=[], metavar="SOURCE=SECONDS")
    parser.add_argument("--rate", action="append", default=[], metavar="SOURCE=PER_SECOND")
    parser.add_argument("--naive-budget", type=float, help="seconds of naive lookups per size")
    parser.add_argument("--no-ror", action="store_true", help="classify without the ROR index")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per measurement")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR and keep each size's database, cache and reports there")
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    if args.keep is not None:
        kept = [str(args.keep / str(size)) for size in sizes if (args.keep / str(size)).exists()]
        if kept:  # a scan measured on a database already filled would measure nothing
            parser.error(f"--keep: {', '.join(kept)} already exist; give an empty folder")
    if args.naive_budget is None:
        args.naive_budget = 10.0 if args.quick else NAIVE_BUDGET_S
    args.pacers = parse_pacers(args.latency, args.rate)
    args.ror = None if args.no_ror or not SHARED_ROR.exists() else SHARED_ROR
    measured_on = machine()  # before the run: the commit the figures belong to
    results = []
    with contextlib.ExitStack() as stack:
        tmp = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tracer-bench-")))
        for size in sizes:
            work = Path(tmp) / str(size)
            work.mkdir(parents=True)
            print(f"[{size} citing papers] building and measuring...", file=sys.stderr)
            results.append(Bench(size, args, work).run())
    payload = {
        "machine": measured_on,
        "settings": {
            "latency": {s: p.latency for s, p in args.pacers.items()},
            "rate": {s: (1 / p.interval if p.interval else 0) for s, p in args.pacers.items()},
            "naive_budget_s": args.naive_budget,
            "ror_dump": str(args.ror) if args.ror else None,
        },
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(render_table(results))
    print("\n".join(local_lines(results)))
    mach = payload["machine"]
    print(f"machine: {mach['cpu']}, {mach['nproc']} cores, Python {mach['python']};"
          f" tracer at {mach['commit']}; results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
