"""benchmarks/research_claims.py: claims judged from the verdict table, the exit status, a tiny run."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from interactions.types import TERMS
from reports.verdicts import BIAS_KEY

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location(
        "research_claims", ROOT / "benchmarks" / "research_claims.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["research_claims"] = module
    spec.loader.exec_module(module)
    return module


claims_script = _script()

#: Final capture of every (protocol, objective, term) when every claim holds; floors 0.8 (0 for synergy).
GOOD = {
    ("unbiased", "comm"): (1.0, 1.0, 1.0, 0.0),
    ("unbiased", "cross"): (1.0, 0.3, 0.3, 0.0),
    ("unbiased", "cross_self"): (1.0, 1.0, 1.0, 0.0),
    ("unbiased", "simclr"): (1.0, 0.5, 0.5, 0.0),
    ("unbiased", "factorcl"): (0.95, 0.7, 0.6, 0.0),
    ("unbiased", "supervised"): (0.2, 0.1, 0.1, 1.0),
    ("biased", "comm"): (1.0, 1.0, 1.0, 0.95),
    ("biased", "cross"): (1.0, 0.3, 0.3, 0.0),
    ("biased", "cross_self"): (1.0, 1.0, 1.0, 0.02),
    ("biased", "simclr"): (1.0, 0.5, 0.5, 0.0),
    ("biased", "factorcl"): (0.95, 0.7, 0.6, 0.0),
}


def _final(seeds=(0, 1, 2), values=GOOD):
    rows = []
    for (protocol, objective), captures in values.items():
        for seed in seeds:
            for term, capture in zip(TERMS, captures):
                floor = 0.0 if term == "synergy" else 0.8
                rows.append(
                    dict(protocol=protocol, objective=objective, seed=seed, term=term, capture=capture)
                    | dict(floor=floor, balanced_accuracy=0.5 + capture / 2)
                )
    return pd.DataFrame(rows)


def test_every_claim_holds_on_a_good_table():
    final = _final()
    claims = claims_script.check_claims(claims_script.judge(final), final)
    assert len(claims) == 7 and all(passed for _, passed, _ in claims), claims
    assert claims_script.exit_code(claims) == 0


def test_one_seed_breaks_a_claim_and_the_exit_status():
    final = _final()
    one = (final["protocol"] == "unbiased") & (final["objective"] == "cross") & (final["term"] == "unique_1")
    final.loc[one & (final["seed"] == 1), "capture"] = 0.95  # Cross learned U1 in one seed of three
    claims = claims_script.check_claims(claims_script.judge(final), final)
    failed = [claim for claim, passed, _ in claims if not passed]
    assert failed == ["Cross drops U1 and U2: capture <= its floor + 0.05 (unbiased)"]
    numbers = dict((c, n) for c, _, n in claims)[failed[0]]
    assert "unique_1 unreliable 2/3" in numbers
    assert claims_script.exit_code(claims) == 1
    final = _final()
    comm = (final["protocol"] == "biased") & (final["objective"] == "comm") & (final["term"] == "synergy")
    final.loc[comm & (final["seed"] == 0), ["capture", "balanced_accuracy"]] = [0.6, 0.8]
    claims = claims_script.check_claims(claims_script.judge(final), final)
    assert [(c, n) for c, p, n in claims if not p] == [
        ("CoMM learns synergy (biased)", "unreliable 2/3 (median 0.95)")
    ]


def test_protocol_table_names_the_protocol_of_each_run_from_its_bias():
    rows = []
    for run, (bias, seed) in enumerate([(0.0, 0), (0.8, 0), (0.0, 1)]):
        for epoch, capture in ((0, 0.3), (5, 0.9)):
            rows.append(
                dict(run_id=f"r{run}", status="finished", error="", generator="xor", objective="comm")
                | dict(seed=seed, epoch=epoch, term="synergy", estimator="probe", true_bits=1.0)
                | dict(bits=capture, balanced_accuracy=0.5 + capture / 2, capture=capture, floor=0.3)
                | dict(chance=0.5, feature_dim=8, **{"objective.name": "comm", BIAS_KEY: bias})
            )
    final = claims_script.protocol_table(pd.DataFrame(rows))
    assert list(final.columns) == list(claims_script.FINAL_COLUMNS)
    assert final[["protocol", "seed", "capture", "floor"]].values.tolist() == [
        ["unbiased", 0, 0.9, 0.3],
        ["biased", 0, 0.9, 0.3],
        ["unbiased", 1, 0.9, 0.3],
    ]


def test_claims_need_every_objective():
    final = _final()
    final = final[final["objective"] != "supervised"]
    with pytest.raises(ValueError, match="no verdict for"):
        claims_script.check_claims(claims_script.judge(final), final)


TINY = [
    "model.width=16",
    "model.hidden=16",
    "model.n_tokens=2",
    "model.heads=2",
    "train.n_train=128",
    "train.batch_size=64",
    "train.epochs=1",
    "probe.n_train=128",
    "probe.n_test=128",
    "probe.Cs=[1.0]",
    "train.device=cpu",
]


@pytest.mark.slow
def test_tiny_end_to_end_run_exits_as_its_verdicts_imply(tmp_path, capsys):
    argv = ["--seeds", "0,1", "--out", str(tmp_path)] + [a for s in TINY for a in ("--set", s)]
    start = time.perf_counter()
    code = claims_script.main(argv)
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    final = pd.read_csv(tmp_path / "final.csv")
    assert len(final) == 2 * 12 * len(TERMS)  # 2 seeds x 6 objectives x 2 protocols x terms
    claims = claims_script.check_claims(claims_script.judge(final), final)
    assert code == claims_script.exit_code(claims)
    for claim, passed, _ in claims:
        assert f"{'PASS' if passed else 'FAIL'}  {claim}" in out
    assert "learned = capture >= 0.9 in every seed" in out and "Redundancy" in out
    verdicts = pd.read_csv(tmp_path / "verdicts.csv")
    assert set(verdicts["n"]) == {2}
    print(f"tiny research-claims run: {elapsed:.0f} s")
    with pytest.raises(SystemExit):
        claims_script.main(["--seeds", "3", "--out", str(tmp_path)])
