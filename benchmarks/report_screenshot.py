"""Render ``report.html`` in headless Chromium and check that the screenshot shows a report, not a blank page.

The report is copied **alone** into an empty temporary folder before it is opened, so that any figure it
still linked by a relative path would be missing; its figures must be embedded (data URIs) to show up.
The screenshot is then checked for:

* not blank: the grey-level standard deviation and the share of non-white pixels;
* figures drawn: the share of strongly coloured pixels (the objectives' Okabe-Ito colours appear only in
  the figures and the verdict cells; text is black or grey).

Needs Chromium (Debian: ``apt-get update && apt-get install -y chromium``). Without ``--report`` or
``--results``, a report is written first from a small hand-made table (3 objectives, 5 seeds, 4 epochs;
no training).

Usage::

    python benchmarks/report_screenshot.py --out runs/screenshot
    python benchmarks/report_screenshot.py --results runs/sweep --out runs/screenshot
    python benchmarks/report_screenshot.py --report runs/sweep/report/report.html --out runs/screenshot
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: A screenshot counts as blank below these (grey-level std on 0-1, share of non-white pixels).
MIN_STD, MIN_INK = 0.02, 0.01
#: Share of strongly coloured pixels expected once figures are drawn.
MIN_COLOUR = 0.002


def find_chromium() -> str:
    """Path of a Chromium/Chrome binary, or ValueError saying how to install one."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise ValueError("no chromium found; install it with: apt-get update && apt-get install -y chromium")


def demo_table():
    """A small results table shaped like the paper's outcomes (CoMM's unbiased synergy is bimodal)."""
    import pandas as pd

    from interactions.types import TERMS
    from reports.results import RESULT_COLUMNS

    finals = {
        "comm": (
            [1.0, 0.99, 1.0, 1.0, 0.995],
            [0.99, 1.0, 0.995, 1.0, 0.99],
            [1.0, 0.99, 0.19, 1.0, 0.995],
            [0.85, 0.0, 0.79, 0.0, 0.0],
        ),
        "cross": (
            [1.0, 1.0, 0.99, 1.0, 1.0],
            [0.14, 0.3, 0.42, 0.2, 0.25],
            [0.2, 0.18, 0.3, 0.35, 0.22],
            [0.0] * 5,
        ),
        "cross_self": (
            [0.995, 1.0, 1.0, 0.99, 1.0],
            [1.0, 0.99, 1.0, 1.0, 0.995],
            [0.99, 1.0, 1.0, 0.995, 1.0],
            [0.0] * 5,
        ),
    }
    floors = {
        "comm": (0.8, 0.7, 0.72, 0.0),
        "cross": (0.85, 0.75, 0.78, 0.0),
        "cross_self": (0.85, 0.75, 0.78, 0.0),
    }
    rows = []
    for objective, per_term in finals.items():
        for seed in range(5):
            for epoch in (0, 10, 20, 30):
                for t, term in enumerate(TERMS):
                    floor, final = floors[objective][t], per_term[t][seed]
                    capture = floor + (final - floor) * epoch / 30
                    chance = 0.5 if term == "synergy" else 0.25
                    rows.append(
                        dict(run_id=f"{objective}-s{seed}", status="ok", error="", generator="xor")
                        | dict(
                            objective=objective,
                            seed=seed,
                            epoch=epoch,
                            term=term,
                            true_bits=1.0,
                            bits=capture,
                        )
                        | dict(
                            balanced_accuracy=chance + (1 - chance) * capture, capture=capture, floor=floor
                        )
                        | dict(chance=chance, feature_dim=64, estimator="probe")
                    )
    return pd.DataFrame(rows)[list(RESULT_COLUMNS)]


def screenshot(html: Path, png: Path, chromium: str, width: int = 1280, height: int = 2000) -> float:
    """Open ``html`` alone (copied into an empty folder) in headless Chromium; return the seconds it took."""
    with tempfile.TemporaryDirectory() as tmp:
        alone = Path(tmp) / "page" / "report.html"
        alone.parent.mkdir()
        shutil.copyfile(html, alone)
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--screenshot={png.resolve()}",
            f"--window-size={width},{height}",
            alone.resolve().as_uri(),
        ]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        elapsed = time.perf_counter() - start
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def image_stats(png: Path) -> dict[str, float]:
    """Grey-level std (0-1), share of non-white pixels, share of strongly coloured pixels."""
    from matplotlib import image

    pixels = image.imread(png)[..., :3].astype(float)  # (H, W, 3) in [0, 1]
    grey = pixels.mean(axis=2)
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    return {
        "height": float(pixels.shape[0]),
        "width": float(pixels.shape[1]),
        "std": float(grey.std()),
        "ink": float((grey < 0.95).mean()),
        "colour": float((saturation > 0.3).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--report", help="an existing report.html")
    source.add_argument("--results", help="a sweep directory or results table to write a report from")
    parser.add_argument(
        "--out", default="runs/report_screenshot", help="folder for the report and screenshot"
    )
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.report:
        html = Path(args.report)
    else:
        from reports import write_report

        results = args.results if args.results else demo_table()
        html = write_report(results, out / "report", formats=("png",))["report.html"]
    chromium = find_chromium()
    png = out / "report_screenshot.png"
    png.unlink(missing_ok=True)
    elapsed = screenshot(html, png, chromium)
    stats = image_stats(png)
    blank = stats["std"] < MIN_STD or stats["ink"] < MIN_INK
    no_figures = stats["colour"] < MIN_COLOUR
    print(f"report:     {html} ({html.stat().st_size / 1e6:.2f} MB)")
    print(f"screenshot: {png} ({stats['width']:.0f} x {stats['height']:.0f} px, chromium {elapsed:.1f} s)")
    print(
        f"grey std {stats['std']:.3f} (blank below {MIN_STD}), non-white {stats['ink']:.1%} (blank below "
        f"{MIN_INK:.0%}), coloured {stats['colour']:.2%} (no figures below {MIN_COLOUR:.1%})"
    )
    verdict = "BLANK" if blank else "NO FIGURES" if no_figures else "OK"
    print(f"result: {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
