"""BROJA speed and accuracy against dit's exponential-cone (ECOS) path, side by side.

For random Dirichlet(1) joints of each size and several seeds, times ``estimators.pid(joint, "broja")``
(median of ``--repeats`` runs) and ``dit.pid.PID_BROJA(d, method="cone")`` (median of ``--ref-repeats``
runs, excluding the construction of the dit Distribution), and prints per size: median times, their ratio
(reference / ours), the largest |difference| over the four terms and seeds, the smallest term we report, our
largest certified gap and interior-point iterations.

Usage (one thread, as reported in the helper's notes):

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_pid.py
    python benchmarks/bench_pid.py --sizes 2x2x2,8x8x2 --seeds 2 --ref-max-cells 20000

``--ref-max-cells N`` skips the (slow) reference for joints with more than N cells; its columns then say "-".
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

from estimators import pid
from estimators.broja import broja_solve

DEFAULT_SIZES = "2x2x2,4x4x2,8x8x2,16x16x2,32x32x2,32x32x10,64x64x10"


def _reference(joint: np.ndarray, repeats: int) -> tuple[dict[str, float], float]:
    import dit
    from dit.pid import PID_BROJA

    idx = np.nonzero(joint)
    outcomes = [tuple(int(v) for v in t) for t in zip(*idx)]
    dist = dit.Distribution(outcomes, joint[idx].tolist())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        res = PID_BROJA(dist, [[0], [1]], [2], method="cone")
        times.append(time.perf_counter() - start)
    terms = {
        "redundancy": res.get_pi(((0,), (1,))),
        "unique_1": res.get_pi(((0,),)),
        "unique_2": res.get_pi(((1,),)),
        "synergy": res.get_pi(((0, 1),)),
    }
    return terms, statistics.median(times)


def _ours(joint: np.ndarray, repeats: int) -> tuple[dict[str, float], float, float, int]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = pid(joint, "broja")
        times.append(time.perf_counter() - start)
    iterations = broja_solve(joint).iterations
    return result.as_dict(), statistics.median(times), float(result.gap), iterations


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated n1xn2xny")
    parser.add_argument("--seeds", type=int, default=3, help="random joints per size")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of ours per joint (median)")
    parser.add_argument("--ref-repeats", type=int, default=1, help="timed runs of the reference per joint")
    parser.add_argument(
        "--ref-max-cells", type=int, default=0, help="skip the reference above this (0: never)"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="Sample space has more than")

    pid(np.full((2, 2, 2), 1 / 8), "broja")  # warm-up (imports, BLAS)
    header = (
        f"{'size':>10} {'ours_s':>9} {'ref_s':>9} {'ratio':>7} {'max|diff|':>10} "
        f"{'min_term':>10} {'max_gap':>9} {'iters':>6}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes.split(","):
        shape = tuple(int(v) for v in size.lower().split("x"))
        ours_t, ref_t, diffs, mins, gaps, iters = [], [], [], [], [], []
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            joint = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
            terms, t_ours, gap, it = _ours(joint, args.repeats)
            ours_t.append(t_ours)
            mins.append(min(terms.values()))
            gaps.append(gap)
            iters.append(it)
            if not args.ref_max_cells or joint.size <= args.ref_max_cells:
                ref_terms, t_ref = _reference(joint, args.ref_repeats)
                ref_t.append(t_ref)
                diffs.append(max(abs(terms[k] - ref_terms[k]) for k in terms))
        t_o = statistics.median(ours_t)
        if ref_t:
            t_r = statistics.median(ref_t)
            ref_cols = f"{t_r:9.4f} {t_r / t_o:7.1f} {max(diffs):10.2e}"
        else:
            ref_cols = f"{'-':>9} {'-':>7} {'-':>10}"
        print(
            f"{size:>10} {t_o:9.4f} {ref_cols} {min(mins):10.2e} {max(gaps):9.1e} {max(iters):6d}", flush=True
        )


if __name__ == "__main__":
    main()
