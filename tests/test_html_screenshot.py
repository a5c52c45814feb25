"""The HTML report in a real browser: the map and charts are drawn, nothing is fetched.

Headless Chromium (Debian package `chromium`, at /usr/bin/chromium; the test skips without it)
takes a screenshot, which is decoded here and searched for the colours of the shaded countries
and of the chart bars. Chromium's network log lists every request; requests the page makes carry
the page's origin, the browser's own background requests "not an origin". A control page that
does load an image over http proves the check can fail.
"""

from __future__ import annotations

import json
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from tests.report_corpus import DATASET, build_store
from tracer.render import write_atomic
from tracer.render.html import NO_DATA, SHADES, render_html
from tracer.report import build_report

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium package")


def chromium(page: Path, tmp: Path, name: str) -> tuple[Path, list[tuple[str, str]]]:
    """Screenshot `page`; return the PNG and the (url, initiator) of every http(s) request."""
    png, netlog = tmp / f"{name}.png", tmp / f"{name}-net.json"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp / (name + '-profile')}",
            # No name resolves: the browser's own update pings cannot leave the machine.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--log-net-log={netlog}",
            "--force-device-scale-factor=0.5",
            f"--screenshot={png}",
            "--window-size=1400,2000",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert png.exists(), "chromium wrote no screenshot"
    log = json.loads(netlog.read_text(encoding="utf-8"))
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requests = []
    for event in log["events"]:
        params = event.get("params") or {}
        url = str(params.get("url") or "")
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and url.startswith("http"):
            requests.append((url, str(params.get("initiator"))))
    return png, requests


def page_requests(requests: list[tuple[str, str]]) -> list[str]:
    return [url for url, initiator in requests if initiator != "not an origin"]


def colours(png: Path) -> Counter[str]:
    """Pixel counts per RGB colour of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    data = png.read_bytes()
    pos, chunks = 8, []
    width = height = kind = 0
    while pos < len(data):
        length, tag = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if tag == b"IHDR":
            width, height, depth, kind = struct.unpack(">IIBB", body[:10])
            assert depth == 8
        elif tag == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    bpp = {2: 3, 6: 4}[kind]
    raw, stride = zlib.decompress(b"".join(chunks)), width * bpp
    prev, counts = bytearray(stride), Counter[str]()
    for y in range(height):
        start = y * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if method == 2:  # "up", the most common filter: one pass without the per-byte branch
            line = bytearray((x + b) & 255 for x, b in zip(line, prev, strict=True))
            method = 0
        for i in range(stride if method else 0):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if method == 1:
                line[i] = (line[i] + a) & 255
            elif method == 2:
                line[i] = (line[i] + b) & 255
            elif method == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif method == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        counts.update(bytes(line[i : i + 3]).hex() for i in range(0, stride, bpp))
        prev = line
    return counts


def test_screenshot_shows_map_and_charts_and_page_fetches_nothing(tmp_path: Path) -> None:
    with build_store(tmp_path / "t.db") as store:
        report = build_report(store, DATASET)
    page = write_atomic(tmp_path / "report.html", render_html(report))
    png, requests = chromium(page, tmp_path, "report")
    assert page_requests(requests) == []
    seen = colours(png)
    # China (6 papers, darkest shade) and the US (5) are shaded; other countries stay grey.
    assert seen[SHADES[-1].lstrip("#")] > 500, "China is not shaded on the map"
    assert seen["ef6a4c"] > 500, "the United States are not shaded on the map"
    assert seen[NO_DATA.lstrip("#")] > 5000, "the world map is not drawn"
    assert seen["7b3294"] > 500, "the per-year chart has no bars"
    assert seen["2c7fb8"] > 500, "the sector chart has no bars"


def test_the_request_check_sees_a_page_that_loads_over_http(tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    # Port 9 on the loopback: refused at once, nothing leaves the machine.
    control.write_text('<p>x</p><img src="http://127.0.0.1:9/pixel.png">', encoding="utf-8")
    _, requests = chromium(control, tmp_path, "control")
    assert page_requests(requests) == ["http://127.0.0.1:9/pixel.png"]
