"""The HTML report in a real browser: the map and charts are drawn, nothing is fetched, and the
page fits a phone and a desktop screen.

Headless Chromium (Debian package `chromium`, at /usr/bin/chromium; the test skips without it)
takes a screenshot, which is decoded here and searched for the colours of the shaded countries
and of the chart bars. Chromium's network log lists every request; requests the page makes carry
the page's origin, the browser's own background requests "not an origin". A control page that
does load an image over http proves the check can fail.

Headless Chromium's window is at least 500 px wide, so a phone's 390 px viewport is an iframe
of that width in a wrapper page; the report, given a probe script, posts its scroll width and
its viewport width to the wrapper, and the wrapper's DOM (dumped by Chromium) carries them.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from tests.report_corpus import DATASET, build_store
from tracer.records import Author, Work
from tracer.render import write_atomic
from tracer.render.html import NO_DATA, SHADES, map_classes, render_html, shade
from tracer.report import build_report
from tracer.store import Store

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium package")


SHOTS = Path("/tmp/tracer-report-shots")  # kept after the run, for a person to look at


def chromium(
    page: Path, tmp: Path, name: str, *, width: int = 1400, height: int = 2000, scale: float = 0.5
) -> tuple[Path, list[tuple[str, str]]]:
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
            f"--force-device-scale-factor={scale}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
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


def _with_swiss_paper(store: Store) -> Store:
    """One paper by an author in Switzerland, a small country with a single paper."""
    run = store.start_run("brainwash", "scan")
    pid, _ = store.upsert_work(Work(source="s2", title="Crowds in Zurich", year=2021, doi="10.1/ch"))
    store.link("brainwash", pid, run, None)
    store.save_authors(pid, [Author(name="Urs Meier", position=0, raw_affiliations=["ETH"])], "s2")
    store.save_affiliations(pid, 0, [{
        "raw": "ETH Zurich", "institution_id": "https://ror.org/05a28rw58",
        "institution_name": "ETH Zurich", "country": "CH", "sector": "academic", "flags": [],
        "confidence": 1.0, "method": "ror-exact",
    }])
    store.finish_run(run, "ok", requests={})
    return store


def test_screenshot_shows_map_and_charts_and_page_fetches_nothing(tmp_path: Path) -> None:
    with build_store(tmp_path / "t.db") as store:
        report = build_report(_with_swiss_paper(store), DATASET)
    page = write_atomic(tmp_path / "report.html", render_html(report))
    png, requests = chromium(page, tmp_path, "report", scale=1, height=4200)
    assert page_requests(requests) == []
    seen = colours(png)
    classes = map_classes(6)
    # China (6 papers) and the US (5) are shaded, each in its class; other countries stay grey.
    assert seen[shade(6, classes).lstrip("#")] > 2000, "China is not shaded on the map"
    assert seen[shade(5, classes).lstrip("#")] > 2000, "the United States are not shaded"
    # Switzerland, with one paper, is visible: its class's colour shows on the map. The legend
    # shows that colour too, so the count is compared with the same page without the paper.
    assert shade(1, classes) == SHADES[0]
    with build_store(tmp_path / "control.db") as store:
        control = write_atomic(tmp_path / "control.html", render_html(build_report(store, DATASET)))
    without, _ = chromium(control, tmp_path, "control-map", scale=1, height=4200)
    swiss = seen[SHADES[0].lstrip("#")] - colours(without)[SHADES[0].lstrip("#")]
    assert swiss > 40, f"a country with one paper shows {swiss} pixels"
    assert seen[NO_DATA.lstrip("#")] > 5000, "the world map is not drawn"
    assert seen["7b3294"] > 500, "the per-year chart has no bars"
    assert seen["2c7fb8"] > 500, "the sector chart has no bars"


PROBE = (
    "<script>parent.postMessage(document.documentElement.scrollWidth + 'x' + "
    "document.documentElement.clientWidth, '*');</script></body>"
)


def scroll_and_viewport(page: Path, tmp: Path, width: int) -> tuple[int, int]:
    """The page's scroll width and viewport width in a `width` px wide frame."""
    probe = tmp / f"probe-{width}.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    wrapper = tmp / f"wrap-{width}.html"
    wrapper.write_text(
        f'<!DOCTYPE html><body style="margin:0"><iframe src="{probe.name}" width="{width}" '
        'height="3000" style="border:0;display:block"></iframe><script>'
        'addEventListener("message", function (e) { document.body.dataset.scroll = e.data; });'
        "</script></body>",
        encoding="utf-8",
    )
    dom = subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp / f'dom-{width}'}", f"--window-size={max(width, 500)},3000",
            "--virtual-time-budget=5000", "--dump-dom", wrapper.as_uri(),
        ],
        capture_output=True, text=True, timeout=90, check=False,
    ).stdout
    found = re.search(r'data-scroll="(\d+)x(\d+)"', dom)
    assert found, "the probe reported nothing"
    return int(found.group(1)), int(found.group(2))


@pytest.mark.parametrize("width", [390, 1400])
def test_page_fits_a_phone_and_a_desktop_without_sideways_scrolling(
    tmp_path: Path, width: int
) -> None:
    with build_store(tmp_path / "t.db") as store:
        report = build_report(_with_swiss_paper(store), DATASET)
    page = write_atomic(tmp_path / "report.html", render_html(report))
    scroll, viewport = scroll_and_viewport(page, tmp_path, width)
    assert viewport > width - 30  # the frame's width, less a scrollbar
    assert scroll == viewport, f"the page is {scroll} px wide in a {viewport} px viewport"
    # A screenshot at this width, for a person to look at (the frame shows the phone view).
    SHOTS.mkdir(exist_ok=True)
    shot, _ = chromium(
        tmp_path / f"wrap-{width}.html" if width < 500 else page, tmp_path, f"shot-{width}",
        width=max(width, 500), height=3000, scale=1,
    )
    (SHOTS / f"report-{width}.png").write_bytes(shot.read_bytes())


def test_the_overflow_check_sees_a_page_too_wide(tmp_path: Path) -> None:
    page = tmp_path / "wide.html"
    page.write_text('<html><body><div style="width:900px">x</div></body></html>', encoding="utf-8")
    scroll, viewport = scroll_and_viewport(page, tmp_path, 390)
    assert scroll > viewport


def test_the_request_check_sees_a_page_that_loads_over_http(tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    # Port 9 on the loopback: refused at once, nothing leaves the machine.
    control.write_text('<p>x</p><img src="http://127.0.0.1:9/pixel.png">', encoding="utf-8")
    _, requests = chromium(control, tmp_path, "control")
    assert page_requests(requests) == ["http://127.0.0.1:9/pixel.png"]
