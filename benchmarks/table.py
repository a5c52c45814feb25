"""The benchmark's printed table and its verdicts on the targets of issue 9."""

from __future__ import annotations

from typing import Any

RUNS = (("scan", "scan"), ("refresh_first", "refresh, writes reports"),
        ("refresh_unchanged", "refresh, nothing new"),
        ("refresh_new", "refresh, 1% new"))
STAGES = ("merge", "classify", "judge", "report")


def _by_source(counts: dict[str, dict[str, int]]) -> str:
    s2 = sum(counts.get("s2", {}).values())
    oa = sum(counts.get("openalex", {}).values())
    return f"{s2 + oa} ({s2}+{oa})"


def _endpoints(counts: dict[str, dict[str, int]]) -> str:
    return "; ".join(
        f"{source} " + ", ".join(f"{e} {n}" for e, n in sorted(per.items()))
        for source, per in sorted(counts.items())
    ) or "none"


def naive_requests(naive: dict[str, Any]) -> tuple[int, bool]:
    """The naive client's requests for the whole list; True when extrapolated."""
    if "extrapolated" in naive:
        return int(naive["extrapolated"]["requests"]), True
    return int(naive["requests"]), False


def naive_wall(naive: dict[str, Any]) -> float:
    if "extrapolated" in naive:
        return float(naive["extrapolated"]["wall_s"])
    return float(naive["wall_s"])


def render_table(results: list[dict[str, Any]]) -> str:
    head = (f"{'citers':>7}  {'run':<24} {'requests (s2+oa)':>17} {'bound':>6} {'x bound':>7}"
            f" {'wall s':>7} {'cpu s':>7} {'local cpu s':>11} {'peak MB':>8}  counts agree")
    lines = ["", head, "-" * len(head)]
    for res in results:
        for key, label in RUNS:
            run = res.get(key) or {}
            if "server" not in run:
                lines.append(f"{res['size']:>7}  {label:<24} {run.get('error', 'not run')}")
                continue
            bound = run.get("lower_bound", {}).get("total")
            lines.append(
                f"{res['size']:>7}  {label:<24} {_by_source(run['server']):>17}"
                f" {bound if bound is not None else '-':>6}"
                f" {run.get('ratio_to_bound', 0):>7.2f} {run['wall_s']:>7.2f} {run['cpu_s']:>7.2f}"
                f" {run['local_cpu_s']:>11.2f} {run['peak_rss_mb']:>8.0f}"
                f"  {'yes' if run['agree'] else 'NO'}"
                + (f"  [{run['error']}]" if run.get("error") else "")
            )
        naive = res["naive"]
        if "naive" not in naive:
            lines.append(f"{res['size']:>7}  {'naive client':<24} {naive.get('error')}")
            continue
        requests, projected = naive_requests(naive)
        mark = "*" if projected else ""
        lines.append(
            f"{res['size']:>7}  {'naive client':<24} {str(requests) + mark:>17} {'':>6} {'':>7}"
            f" {naive_wall(naive):>6.1f}{mark or ' '} {naive['cpu_s']:>7.2f} {'':>11}"
            f" {naive['peak_rss_mb']:>8.0f}  {'yes' if naive['agree'] else 'NO'}"
        )
    lines.append("")
    lines.append("* extrapolated: the naive client ran out of its time budget; the rest of its")
    lines.append("  list is projected from its measured per-paper requests and time.")
    lines += ["", "Versus the naive client (same server, same run):"]
    lines += [f"  {line}" for line in versus(results)]
    lines += ["", "Local CPU seconds by stage (merge, classify, judge, report), and requests by"
              " endpoint (server's names / tracer's names):"]
    for res in results:
        for key, label in RUNS:
            run = res.get(key) or {}
            if "server" not in run:
                continue
            stages = ", ".join(
                f"{s} {run['stages'].get(s, {}).get('cpu_s', 0.0):.2f}" for s in STAGES
            )
            lines.append(f"  {res['size']:>6} {label}: {stages}")
            lines.append(f"         server: {_endpoints(run['server'])}")
            lines.append(f"         tracer: {_endpoints(run['tracer_counts'])}")
            if run.get("lower_bound"):
                bound = run["lower_bound"]
                lines.append(f"         bound:  s2 {bound['s2']}; openalex {bound['openalex']}")
    lines += ["", "Targets (issue 9):"] + [f"  {v}" for v in verdicts(results)]
    return "\n".join(lines)


def versus(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for res in results:
        scan, naive = res.get("scan") or {}, res.get("naive") or {}
        if "server" not in scan or "naive" not in naive:
            continue
        requests, projected = naive_requests(naive)
        run = naive["naive"]
        note = (f" (extrapolated from {run['looked_up']} of {run['citers']} papers)"
                if projected else "")
        out.append(
            f"{res['size']:>6} citers: naive {requests} requests, {naive_wall(naive):.1f} s;"
            f" tracer {scan['requests']} requests, {scan['wall_s']:.1f} s: "
            f"{requests / scan['requests']:.0f}x fewer requests, "
            f"{naive_wall(naive) / scan['wall_s']:.1f}x less wall time{note}. Papers found:"
            f" naive {run['citers']}, tracer {scan.get('papers_found', '?')}."
        )
    return out


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    out = []

    def say(ok: bool, text: str) -> None:
        out.append(f"{'PASS' if ok else 'MISS'}  {text}")

    for res in results:
        scan = res.get("scan") or {}
        if "server" not in scan:
            say(False, f"{res['size']} citers: scan did not run")
            continue
        ratio = scan["ratio_to_bound"]
        say(ratio <= 1.2, f"{res['size']} citers: full scan {scan['requests']} requests ="
                          f" {ratio:.2f}x the lower bound {scan['lower_bound']['total']} (<= 1.2x)")
        if "naive" in res["naive"]:
            requests, projected = naive_requests(res["naive"])
            fewer = requests / scan["requests"]
            say(fewer >= 10, f"{res['size']} citers: {fewer:.0f}x fewer requests than the naive"
                             f" client{' (extrapolated)' if projected else ''} (>= 10x)")
        else:
            say(False, f"{res['size']} citers: naive client failed: {res['naive'].get('error')}")
        say(scan["agree"], f"{res['size']} citers: server log and tracer's counts agree")
        unchanged = res.get("refresh_unchanged") or {}
        if "server" in unchanged:
            say(unchanged["requests"] <= 2, f"{res['size']} citers: refresh with nothing new,"
                                             f" whole catalog: {unchanged['requests']} requests (<= 2)")
        else:
            say(False, f"{res['size']} citers: refresh not measured"
                       f" ({unchanged.get('error', 'missing')})")
        new = res.get("refresh_new") or {}
        if "server" in new:
            share = new["requests"] / scan["requests"]
            say(share <= 0.10, f"{res['size']} citers: refresh with 1% new citers"
                               f" {new['requests']} requests = {share:.0%} of the scan's (<= 10%)")
        if res["size"] >= 50000:
            local = sum(scan["stages"].get(s, {}).get("cpu_s", 0.0)
                        for s in ("merge", "classify", "report"))
            say(local < 60, f"{res['size']} citers: merge + classify + report {local:.1f} s CPU"
                            f" (< 60 s; with judge {scan['local_cpu_s']:.1f} s)")
            say(scan["peak_rss_mb"] < 1024,
                f"{res['size']} citers: peak memory {scan['peak_rss_mb']:.0f} MB (< 1 GB)")
    return out


def markdown(payload: dict[str, Any]) -> str:
    """The figures as a Markdown table, for benchmarks/README.md."""
    mach = payload["machine"]
    lines = [
        f"Measured on {mach['cpu']}, {mach['nproc']} cores, Python {mach['python']}, tracer at"
        f" {mach['commit']}; no added latency or rate limit"
        f" (`python -m benchmarks.scan`; naive budget {payload['settings']['naive_budget_s']:.0f} s"
        " per size).",
        "",
        "| citers | run | requests (S2+OA) | lower bound | x bound | wall s | CPU s |"
        " merge / classify / judge / report CPU s | peak MB |",
        "|---:|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for res in payload["results"]:
        for key, label in RUNS:
            run = res.get(key) or {}
            if "server" not in run:
                continue
            stages = " / ".join(
                f"{run['stages'].get(s, {}).get('cpu_s', 0.0):.1f}" for s in STAGES
            )
            lines.append(
                f"| {res['size']:,} | {label} | {_by_source(run['server'])} |"
                f" {run['lower_bound']['total']} | {run['ratio_to_bound']:.2f} |"
                f" {run['wall_s']:.1f} | {run['cpu_s']:.1f} | {stages} | {run['peak_rss_mb']:.0f} |"
            )
        naive = res.get("naive") or {}
        if "naive" in naive:
            requests, projected = naive_requests(naive)
            mark = "*" if projected else ""
            lines.append(
                f"| {res['size']:,} | naive client | {requests:,}{mark} | | |"
                f" {naive_wall(naive):.1f}{mark} | {naive['cpu_s']:.1f} | | {naive['peak_rss_mb']:.0f} |"
            )
    lines += ["", "\\* extrapolated from the papers the naive client looked up within its budget.",
              "", "```"] + versus(payload["results"]) + [""] + verdicts(payload["results"])
    lines += ["```"]
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    with open(sys.argv[1], encoding="utf-8") as handle:
        print(markdown(json.load(handle)))
