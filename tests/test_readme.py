"""The README's Python snippets run as written (the training call is shortened to keep the suite fast)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_example_runs(monkeypatch):
    block = _python_blocks()[0]
    assert "interactions.run(" in block
    block = block.replace('"train.epochs=20"', '"train.epochs=1", "train.n_train=512", "probe.n_train=256"')
    columns = ["term", "balanced_accuracy", "bits", "true_bits", "capture", "floor"]
    block += f"\nassert list(result.capture.columns[:6]) == {columns!r}\n"
    exec(compile(block, str(README), "exec"), {})


def test_readme_objective_plugs_in(tmp_path, monkeypatch):
    module, check = _python_blocks()[1], _python_blocks()[2]
    (tmp_path / "my_objectives.py").write_text(module)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        exec(compile(check, str(README), "exec"), {})
        from interactions.config import resolve

        exp = resolve("xor", ["objective.name=my_objectives:FusedOnly"])
        assert exp.config["objective"]["name"] == "my_objectives:FusedOnly"
        assert exp.objective.cls.__name__ == "FusedOnly"
    finally:
        sys.modules.pop("my_objectives", None)
