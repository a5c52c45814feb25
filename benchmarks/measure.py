"""One measurement in its own process, so that peak memory and CPU time are the run's alone.

    python -m benchmarks.measure RESULT.json tracer scan cafecam --quiet
    python -m benchmarks.measure RESULT.json naive API_ROOT OPENALEX_URL ORIGIN_DOI BUDGET_S
    python -m benchmarks.measure RESULT.json reference    # the classifier's reference data alone

`tracer ...` runs the command line in-process, with the report going to /dev/null, and times
the local stages by wrapping, from here, the functions that do them (the core carries no timers):

    merge     Store.upsert_work and Store.upsert_works: match works with what is stored and merge
              their versions
    classify  Scanner._classify: affiliation strings and institutions to institution, country,
              sector and flags
    judge     Scanner._judge: used / cited / mentioned, with evidence
    report    tracer.report.build_report and everything in tracer.render (outermost call only)

and, within the report files a refresh writes (tracer.render.formats.write_reports), the CPU
seconds of each format (its rendering and writing) and of the report model built for them.

It also keeps the request counts of every HTTP client the command closed (the run's own count,
to set beside the server's log) and the ScanResult of each scan.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

STAGES: dict[str, dict[str, float]] = {}
HTTP_COUNTS: list[dict[str, dict[str, int]]] = []
SCANS: list[dict[str, Any]] = []
FORMATS: dict[str, dict[str, float]] = {}  # format (or "model") -> cpu_s, wall_s, calls


_DEPTH: dict[str, int] = {}


def _timed(stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Time `func` into `stage`, counting only the outermost call of any of the stage's
    functions (print_report calls bar(), both wrapped: the time is counted once)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _DEPTH.get(stage):
            return func(*args, **kwargs)
        _DEPTH[stage] = 1
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            _DEPTH[stage] = 0
            totals = STAGES.setdefault(stage, {"wall_s": 0.0, "cpu_s": 0.0, "calls": 0})
            totals["wall_s"] += time.perf_counter() - wall
            totals["cpu_s"] += time.process_time() - cpu
            totals["calls"] += 1

    wrapper.benchmark_stage = stage
    return wrapper


def _per_format(name_of: Callable[..., str], func: Callable[..., Any]) -> Callable[..., Any]:
    """Time each call of `func` into FORMATS[name_of(*args)]."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            totals = FORMATS.setdefault(name_of(*args, **kwargs),
                                        {"wall_s": 0.0, "cpu_s": 0.0, "calls": 0})
            totals["wall_s"] += time.perf_counter() - wall
            totals["cpu_s"] += time.process_time() - cpu
            totals["calls"] += 1

    return wrapper


def instrument_formats() -> None:
    """Per-format CPU of the report files: write_reports renders a format (render_report) or
    hands its pieces to write_atomic, which renders them as it writes; the file's suffix
    names the format. The model (build_report, or the one pass over the papers that writes
    every format's per-paper parts, read_papers) is timed apart."""
    import tracer.render.formats as formats

    by_suffix = {suffix: fmt for fmt, suffix in formats.SUFFIXES.items()}

    def written(path: Any, *_: Any, **__: Any) -> str:
        name = str(path)
        return next((f for s, f in by_suffix.items() if name.endswith(s)), "other")

    for attr, name_of in (
        ("build_report", lambda *a, **k: "model"),
        ("read_papers", lambda *a, **k: "model"),  # the one pass over the papers (stream.py)
        ("render_report", lambda report, fmt, *a, **k: str(fmt)),
        ("write_atomic", written),
    ):
        if hasattr(formats, attr):
            setattr(formats, attr, _per_format(name_of, getattr(formats, attr)))


def _replace_everywhere(original: Any, wrapper: Any) -> None:
    """Point every tracer module's reference to `original` at `wrapper` (`from x import f`)."""
    for name, module in list(sys.modules.items()):
        if not (name == "tracer" or name.startswith("tracer.")) or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                setattr(module, attr, wrapper)


def instrument() -> list[str]:
    """Wrap the stages; returns the names of what could not be found (the core moved on)."""
    import tracer.cli  # noqa: F401 - imports every command module, and through them the core
    import tracer.http
    import tracer.report
    import tracer.scan
    import tracer.store

    missing = []
    store_cls = tracer.store.Store
    store_cls.upsert_work = _timed("merge", store_cls.upsert_work)  # type: ignore[method-assign]
    if hasattr(store_cls, "upsert_works"):  # the batched merge (a page of works at a time)
        store_cls.upsert_works = _timed("merge", store_cls.upsert_works)  # type: ignore[method-assign]
    scanner = tracer.scan.Scanner
    for method, stage in (("_classify", "classify"), ("_judge", "judge")):
        if hasattr(scanner, method):
            setattr(scanner, method, _timed(stage, getattr(scanner, method)))
        else:
            missing.append(f"Scanner.{method}")
    report_funcs: list[Any] = [tracer.report.build_report]
    for name, module in list(sys.modules.items()):
        if name.startswith("tracer.render") and module is not None:
            report_funcs += [
                f
                for attr, f in vars(module).items()
                if callable(f)
                and not attr.startswith("_")
                and getattr(f, "__module__", "") == name
                and not isinstance(f, type)
            ]
    for func in report_funcs:
        _replace_everywhere(func, _timed("report", func))

    original_scan = scanner.scan

    @functools.wraps(original_scan)
    def scan(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original_scan(self, *args, **kwargs)
        SCANS.append({"dataset": result.dataset, "requests": result.requests,
                      "stats": result.stats, "status": result.status})
        return result

    scanner.scan = scan  # type: ignore[method-assign]
    instrument_formats()

    client = tracer.http.HttpClient
    original_close = client.close

    def close(self: Any) -> None:
        HTTP_COUNTS.append(self.request_counts())
        original_close(self)

    client.close = close  # type: ignore[method-assign]
    return missing


def run_tracer(argv: list[str]) -> dict[str, Any]:
    missing = instrument()
    from tracer.cli import main

    saved = sys.stdout
    code = 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        sys.stdout = sink
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            sys.stdout = saved
    return {
        "exit_code": code,
        "wall_s": wall,
        "cpu_s": cpu,
        "stages": STAGES,
        "http_counts": HTTP_COUNTS,
        "scans": SCANS,
        "formats": FORMATS,
        "not_instrumented": missing,
    }


def run_naive_child(api_root: str, openalex_url: str, doi: str, budget: float) -> dict[str, Any]:
    from benchmarks.naive import run_naive

    wall, cpu = time.perf_counter(), time.process_time()
    run = run_naive(api_root, openalex_url, doi, budget)
    return {
        "exit_code": 0,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "naive": run.to_dict(),
    }


def run_reference_child() -> dict[str, Any]:
    """What the reference data alone costs: the command line imported and the classifier
    loaded (ROR index and watchlist) as a scan loads it, nothing else."""
    import tracer.cli  # noqa: F401 - the same imports as a run
    from tracer.affiliations.classify import Classifier
    from tracer.config import load_settings

    imported = peak_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    classifier = Classifier.load(load_settings())
    return {
        "exit_code": 0,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "imports_rss_mb": imported,
        "gazetteer": classifier.gazetteer is not None,
    }


def peak_mb() -> float:
    """This process's peak resident memory, in MB.

    VmHWM, not ru_maxrss: on Linux ru_maxrss survives fork and exec, so a child of the
    benchmark (whose fake server holds the whole synthetic corpus, 600 MB at 50,000 citers)
    reports at least its parent's size at the fork. VmHWM belongs to the process image."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):  # noqa: SIM115
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main(argv: list[str]) -> None:
    out, kind, *rest = argv
    if kind == "tracer":
        result = run_tracer(rest)
    elif kind == "reference":
        result = run_reference_child()
    elif kind == "naive":
        result = run_naive_child(rest[0], rest[1], rest[2], float(rest[3]))
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    result["peak_rss_mb"] = peak_mb()
    result["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(sys.argv[1:])
