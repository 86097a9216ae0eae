"""Check a finished ``trifeature_cpu`` sweep against the paper's Trifeature contrasts at CPU size.

    interactions sweep trifeature_cpu --workers 2 --out results/trifeature_cpu
    python benchmarks/trifeature_cpu_targets.py results/trifeature_cpu [more sweep directories ...]
    python benchmarks/trifeature_cpu_targets.py DIR --epoch 64      # judged at an earlier evaluation
    python benchmarks/trifeature_cpu_targets.py DIR --frontier      # and at every evaluation epoch

The contrasts are those of the CoMM paper's Trifeature figure (Dufumier et al., ICLR 2025; spec 6.1), as
balanced accuracy (%) of the linear probe at each run's final epoch, on unbiased test pairs:

* shape (redundancy) >= 95 for Cross, Cross+Self and CoMM (unbiased pre-training);
* texture: Cross no more than 5 points above its floor (the same probe on the same network at epoch 0);
  Cross+Self and CoMM >= 60 (unbiased pre-training);
* synergy (texture_1 x colour_2) under biased pre-training (bias 1): CoMM >= 65; Cross and Cross+Self <= 52.

"Texture" is the mean of the texture_1 and texture_2 probes of a seed (spec 4.3 asks for both and their mean;
each is printed too). A target is **met** when the median over seeds meets it (for the floor target: the
median of each seed's excess over its own floor); the table also says in how many seeds it holds and gives the
95 % percentile-bootstrap interval of that median, because with 3 seeds a median is a weak statement (with 3
seeds the interval is the lowest to the highest seed). Several directories are read as one table (a run found
in more than one, by its run id, counts once), so extra seeds swept into another directory join the shipped
sweep's. ``--epoch E`` judges the evaluation at epoch E instead of the last (a sweep probed every few epochs,
``train.eval_every``, holds its own shorter protocols); ``--frontier`` adds the median and the seeds meeting
each target at every evaluation epoch all runs share: the frontier of training length against each contrast,
with a last row estimating the hours the sweep needs to reach each epoch on ``--workers`` cores (each finished
run's measured ``elapsed_s`` times epoch / its epochs, summed, divided by the workers: training dominates a
run's time and costs the same every epoch). Exit status 1 when a target is not met or a run it needs is
missing or failed, 2 when a run has no evaluation at ``--epoch``, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reports import bootstrap_median_ci, load_results

BIAS = "generator.params.bias"
TEXTURE = ("unique_1", "unique_2")


@dataclass(frozen=True)
class Target:
    """One contrast: ``objective``'s ``quantity`` (% balanced accuracy) after pre-training at ``bias``.

    ``kind`` is ">=" (at least ``value``), "<=" (at most ``value``) or "<= floor +" (at most ``value``
    points above the run's own epoch-0 value).
    """

    objective: str
    quantity: str  # "shape", "texture" or "synergy"
    bias: float
    kind: str
    value: float

    def statistic(self, measured: float, floor: float) -> float:
        """What the target bounds for one seed: its value, or (floor target) its excess over its floor."""
        return measured - floor if self.kind == "<= floor +" else measured

    def met(self, statistic: float) -> bool:
        """Whether a ``statistic`` (one seed's, or the median over seeds) meets the target."""
        return statistic >= self.value if self.kind == ">=" else statistic <= self.value

    def label(self) -> str:
        bound = f"floor + {self.value:g}" if self.kind == "<= floor +" else f"{self.value:g}"
        op = "<=" if self.kind.startswith("<=") else ">="
        return f"{self.quantity} {op} {bound}"


TARGETS: tuple[Target, ...] = (
    *(Target(obj, "shape", 0.0, ">=", 95.0) for obj in ("cross", "cross_self", "comm")),
    Target("cross", "texture", 0.0, "<= floor +", 5.0),
    Target("cross_self", "texture", 0.0, ">=", 60.0),
    Target("comm", "texture", 0.0, ">=", 60.0),
    Target("comm", "synergy", 1.0, ">=", 65.0),
    Target("cross", "synergy", 1.0, "<=", 52.0),
    Target("cross_self", "synergy", 1.0, "<=", 52.0),
)


def _finished_probes(results: pd.DataFrame) -> pd.DataFrame:
    if BIAS not in results.columns:
        raise ValueError(f"the results table has no {BIAS!r} column: not a trifeature_cpu sweep")
    return results[(results["estimator"] == "probe") & (results["status"] == "finished")]


def seed_values(results: pd.DataFrame, epoch: int | None = None) -> pd.DataFrame:
    """Per finished run: shape, texture_1, texture_2, texture, synergy (%) at one epoch and at epoch 0.

    Args:
        results: a sweep's tidy results table (``reports.load_results``) with ``generator.params.bias``.
        epoch: the evaluation judged; None: each run's last.

    Returns:
        Columns ``objective, bias, seed, quantity, value, floor`` (percent), one row per run and quantity.

    Raises:
        ValueError: no bias column, or a run without an evaluation at ``epoch`` (named, with its epochs).
    """
    probe = _finished_probes(results)
    rows = []
    for (objective, bias, seed), run in probe.groupby(["objective", BIAS, "seed"]):
        epochs = sorted(int(e) for e in run["epoch"].unique())
        if epoch is not None and epoch not in epochs:
            raise ValueError(
                f"run {run['run_id'].iloc[0]} ({objective}, bias {bias:g}, seed {seed}) has no evaluation at "
                f"epoch {epoch}; its epochs: {', '.join(map(str, epochs))}"
            )
        at = epochs[-1] if epoch is None else epoch
        last = run[run["epoch"] == at].set_index("term")["balanced_accuracy"] * 100
        first = run[run["epoch"] == 0].set_index("term")["balanced_accuracy"] * 100
        for quantity, terms in (("shape", ["redundancy"]), ("texture_1", ["unique_1"]),
                                ("texture_2", ["unique_2"]), ("texture", list(TEXTURE)),
                                ("synergy", ["synergy"])):  # fmt: skip
            rows.append(dict(objective=objective, bias=float(bias), seed=int(seed), quantity=quantity,
                             value=float(last[terms].mean()), floor=float(first[terms].mean())))  # fmt: skip
    return pd.DataFrame(rows, columns=["objective", "bias", "seed", "quantity", "value", "floor"])


def combine_results(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """One results table from several sweeps'; a run (``run_id``) present in more than one is kept once.

    Raises:
        ValueError: no table given.
    """
    if not tables:
        raise ValueError("give at least one results table")
    seen: set[str] = set()
    kept = []
    for table in tables:
        ids = set(table["run_id"].unique())
        kept.append(table[~table["run_id"].isin(seen)])
        seen |= ids
    return pd.concat(kept, ignore_index=True)


def check_targets(values: pd.DataFrame, targets: tuple[Target, ...] = TARGETS) -> pd.DataFrame:
    """Judge every target on the per-seed values of ``seed_values``.

    Returns:
        One row per target: ``objective, bias, target, seeds`` (per-seed values, %), ``median``,
        ``floor`` (median epoch-0 value), ``excess`` (median of value - floor over seeds), ``ci95`` (the
        95 % percentile-bootstrap interval of the median of what the target bounds, the value or for the
        floor target the excess, as "[low, high]"; empty with fewer than 2 seeds; ``bootstrap_median_ci``),
        ``holds_in`` ("k/n" seeds), ``met`` (the median, or for the floor target the median excess, meets
        it; False when no run was found).
    """
    rows = []
    for t in targets:
        hit = values[(values["objective"] == t.objective) & (values["bias"] == t.bias)
                     & (values["quantity"] == t.quantity)].sort_values("seed")  # fmt: skip
        seeds = hit["value"].to_numpy()
        floors = hit["floor"].to_numpy()
        median = float(np.median(seeds)) if len(seeds) else np.nan
        floor = float(np.median(floors)) if len(floors) else np.nan
        excess = float(np.median(seeds - floors)) if len(seeds) else np.nan
        stats = [t.statistic(v, f) for v, f in zip(seeds, floors)]
        k = sum(t.met(s) for s in stats)
        ci95 = "[{:.1f}, {:.1f}]".format(*bootstrap_median_ci(stats)) if len(stats) >= 2 else ""
        rows.append(dict(objective=t.objective, bias=t.bias, target=t.label(),
                         seeds=" ".join(f"{v:.1f}" for v in seeds), median=median, floor=floor,
                         excess=excess, ci95=ci95, holds_in=f"{k}/{len(seeds)}",
                         met=bool(stats) and t.met(float(np.median(stats)))))  # fmt: skip
    return pd.DataFrame(rows)


def run_times(paths: list[str]) -> pd.DataFrame:
    """Each finished run's measured time, from the ``result.json`` files of sweep directories.

    Args:
        paths: sweep directories (a results table's path has no runs and adds none).

    Returns:
        Columns ``run_id``, ``elapsed_s`` (training and evaluation, seconds of one worker, summed over
        resumed parts) and ``epochs`` (``train.epochs``); a run found in more than one directory once.
    """
    rows: dict[str, dict] = {}
    for path in paths:
        for result in sorted(Path(path).glob("runs/*/result.json")):
            data = json.loads(result.read_text(encoding="utf-8"))
            if data.get("status") == "finished" and result.parent.name not in rows:
                run_id, epochs = result.parent.name, int(data["config"]["train"]["epochs"])
                rows[run_id] = dict(run_id=run_id, elapsed_s=float(data["elapsed_s"]), epochs=epochs)
    return pd.DataFrame(list(rows.values()), columns=["run_id", "elapsed_s", "epochs"])


def sweep_hours(times: pd.DataFrame, run_ids: set[str], epoch: int, workers: int) -> float:
    """Estimated wall time (hours) of training the runs ``run_ids`` to ``epoch`` on ``workers`` cores: each
    run's ``elapsed_s`` times ``epoch / epochs``, summed and divided by ``workers`` (perfect packing)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    timed = times[times["run_id"].isin(run_ids)]
    return float((timed["elapsed_s"] * epoch / timed["epochs"]).sum() / workers / 3600)


def frontier(
    results: pd.DataFrame,
    targets: tuple[Target, ...] = TARGETS,
    times: pd.DataFrame | None = None,
    workers: int = 2,
) -> pd.DataFrame:
    """Every target judged at every evaluation epoch (after 0) that all finished runs share.

    Args:
        times: ``run_times`` of the runs; adds the estimated hours row (None: no such row).
        workers: the cores the hours are estimated for.

    Returns:
        One row per target (``objective``, ``bias``, ``target``) and one column per epoch holding "median
        (k/n)" (% balanced accuracy, or the excess over the floor for the floor target, and the seeds that
        meet it; "no runs" where none finished), then a row ``met``: "m/9" targets met at that epoch, and
        with ``times`` a last row: ``sweep_hours`` of the finished runs that have a time ("h, W workers
        (n runs)"; runs without a time are left out of the sum and the count).
    """
    probe = _finished_probes(results)
    per_run = [set(run["epoch"].astype(int)) for _, run in probe.groupby("run_id")]
    epochs = sorted(set.intersection(*per_run) - {0}) if per_run else []
    columns: dict[str, list[str]] = {}
    index = [(t.objective, f"{t.bias:g}", t.label()) for t in targets] + [("", "", "met")]
    for epoch in epochs:
        judged = check_targets(seed_values(results, epoch), targets)
        shown = [
            f"{(row.excess if t.kind == '<= floor +' else row.median):.1f} ({row.holds_in})"
            if row.holds_in != "0/0"
            else "no runs"
            for t, row in zip(targets, judged.itertuples())
        ]
        columns[str(epoch)] = [*shown, f"{int(judged['met'].sum())}/{len(judged)}"]
    if times is not None:
        finished = set(probe["run_id"]) & set(times["run_id"])
        index.append(("", "", f"h, {workers} workers ({len(finished)} runs)"))
        for epoch in epochs:
            columns[str(epoch)].append(f"{sweep_hours(times, finished, epoch, workers):.2f}")
    rows = pd.MultiIndex.from_tuples(index, names=["objective", "bias", "target"])
    return pd.DataFrame(columns, index=rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "results", nargs="+", help="finished trifeature_cpu sweep directories (or their results tables)"
    )
    parser.add_argument(
        "--epoch", type=int, help="judge the evaluation at this epoch (default: each run's last)"
    )
    parser.add_argument(
        "--frontier",
        action="store_true",
        help="also judge every target at every evaluation epoch the runs share",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="cores the frontier's hours are estimated for (default 2)"
    )
    args = parser.parse_args(argv)
    results = combine_results([load_results(path) for path in args.results])
    failed = results.loc[results["status"] != "finished", "run_id"].unique()
    try:
        values = seed_values(results, args.epoch)
    except ValueError as err:
        print(f"trifeature_cpu_targets: {err}", file=sys.stderr)
        return 2
    if args.frontier:
        print("per evaluation epoch: median over seeds (excess over the floor for the floor target), % "
              "balanced accuracy, and the seeds meeting the target:")  # fmt: skip
        print(frontier(results, times=run_times(args.results), workers=args.workers).to_string())
        print()
    detail = values.pivot_table(index=["objective", "bias", "quantity"], values=["value", "floor"],
                                aggfunc="median").round(1)  # fmt: skip
    when = "final epoch" if args.epoch is None else f"epoch {args.epoch}"
    print(f"median over seeds, % balanced accuracy ({when}; floor = epoch 0):")
    print(detail.to_string())
    table = check_targets(values)
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    met = int(table["met"].sum())
    unfinished = f"; {len(failed)} runs did not finish" if len(failed) else ""
    print(f"\n{met} of {len(table)} targets met{unfinished}")
    return 0 if met == len(table) and not len(failed) else 1


if __name__ == "__main__":
    sys.exit(main())
