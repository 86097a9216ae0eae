"""benchmarks/report_screenshot.py: report.html, opened alone in headless Chromium, shows text and figures."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    "report_screenshot", ROOT / "benchmarks" / "report_screenshot.py"
)
report_screenshot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report_screenshot)


@pytest.mark.slow
@pytest.mark.skipif(
    not any(shutil.which(n) for n in report_screenshot.CHROMIUM_NAMES), reason="no chromium installed"
)
def test_screenshot_of_the_report_is_not_blank_and_shows_figures(tmp_path, capsys):
    assert report_screenshot.main(["--out", str(tmp_path)]) == 0
    assert "result: OK" in capsys.readouterr().out
    stats = report_screenshot.image_stats(tmp_path / "report_screenshot.png")
    assert stats["width"] == 1280 and stats["colour"] > report_screenshot.MIN_COLOUR


def test_a_blank_page_is_recognised(tmp_path):
    import numpy as np
    from matplotlib import image

    white = tmp_path / "white.png"
    image.imsave(white, np.ones((50, 80, 3)))
    stats = report_screenshot.image_stats(white)
    assert stats["std"] == 0.0 and stats["ink"] == 0.0 and stats["colour"] == 0.0
