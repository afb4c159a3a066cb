"""``cwingest report``: one self-contained page, opened in headless Chromium (Debian's,
installed by the test when missing, driven with Playwright): no console error, no
request leaves the page, and the screenshot shows every chart with its title and axes."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from cwingest.cli import main
from cwingest.pipeline import run_ingest
from cwingest.sample import write_sample
from cwingest.synthetic import write_publication

CHARTS = (
    "Posts per month",
    "Authors",
    "Issues",
    "Sources per post",
    "Duplicate relations",
    "Rejects",
    "Text length",
    "Languages",
    "Last runs",
)


def _chromium() -> str:
    """Debian's Chromium, installed with apt-get when it is not there yet."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
    done = subprocess.run(install, capture_output=True, text=True, timeout=900, env=env)
    if done.returncode != 0:  # package lists not fetched yet on a new machine
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600, env=env)
        done = subprocess.run(install, capture_output=True, text=True, timeout=900, env=env)
    found = shutil.which("chromium")
    assert found, f"could not install Chromium: {done.stderr[-1000:]}"
    return found


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows (RGB or RGBA, 8 bits) of a PNG that Chromium wrote."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, width, height, channels = 8, b"", 0, 0, 4
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            data += body
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = prev[x], prev[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (
                    line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 0xFF
        rows.append(bytes(line[: width * channels : channels]))  # the red channel
        prev = line
    return width, height, rows


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of a corpus with every chart filled: posts of several types, duplicates,
    rejects and two runs (the second one changes a post)."""
    base = tmp_path_factory.mktemp("report")
    write_publication(base / "pub", posts=40, seed=7)
    write_sample(base / "sample")
    out, raw = base / "curated", base / "raw"
    run_ingest([str(base / "pub"), str(base / "sample")], out=out, raw=raw)
    rest = base / "sample" / "rest" / "cw_post-page1-embed.json"
    edited = base / "edited" / rest.name
    edited.parent.mkdir()
    text = rest.read_text().replace("Learning Targets Students", "Learning Targets All Students")
    edited.write_text(text.replace('"2019-01-04T09:00:00"', '"2019-02-01T09:00:00"'))
    run_ingest([str(edited)], out=out, raw=raw)
    assert main(["report", "--out", str(out)]) == 0
    return out / "report" / "index.html"


def test_the_report_renders_every_chart_in_chromium(report: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=_chromium(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri(), wait_until="load")
        shot = page.screenshot(full_page=True, path=str(tmp_path / "report.png"))
        figures = page.eval_on_selector_all(
            "figure",
            """figs => figs.map(f => {
                const box = f.getBoundingClientRect();
                const svg = f.querySelector('svg');
                const texts = sel => svg ? [...svg.querySelectorAll(sel)]
                    .filter(t => t.getBoundingClientRect().width > 0)
                    .map(t => t.textContent.trim()).filter(Boolean) : [];
                return {
                    name: f.querySelector('h2').textContent,
                    box: [box.x + window.scrollX, box.y + window.scrollY, box.width, box.height],
                    title: texts('.role-title-text'),
                    axisTitles: texts('.role-axis-title'),
                    labels: texts('.role-axis-label text').length,
                    marks: svg ? svg.querySelectorAll('.role-mark path, .role-mark rect').length : 0,
                };
            })""",
        )
        browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file:")] == []  # self-contained
    assert [f["name"] for f in figures] == list(CHARTS)
    width, height, rows = _pixels(shot)
    for f in figures:
        assert f["title"], f["name"]  # the chart's own title
        assert len(f["axisTitles"]) == 2 and f["labels"] >= 4, f  # both axes, labelled
        assert f["marks"] > 0, f["name"]
        # and the screenshot shows it: the figure's area is drawn, not blank
        x, y, w, h = (int(v) for v in f["box"])
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height, f["name"]
        area = [row[x : x + w] for row in rows[y : y + h]]
        dark = sum(1 for row in area for value in row if value < 200)
        assert dark > 0.01 * w * h, (f["name"], dark)


def test_the_report_counts_what_the_tables_hold(report: Path) -> None:
    from tests.conftest import table

    out = report.parent.parent
    text = report.read_text()
    assert "<script" not in text.lower()
    assert f"{len(table(out, 'rejects'))} inputs or documents could not be used" in text
    assert "2 runs in all" in text
    [second] = [r for r in table(out, "runs") if r["posts_updated"]]
    assert f"<td>{second['run_id']}</td><td>ingest</td>" in text


def test_report_of_an_empty_output_is_an_error(tmp_path: Path) -> None:
    assert main(["report", "--out", str(tmp_path / "nothing")]) == 2
