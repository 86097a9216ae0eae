"""Per-texture recall of a linear probe on a Trifeature run's features: which textures an encoder knows.

Balanced accuracy says how much texture a representation keeps; this says which of the ten textures. It
loads a run directory's latest checkpoint (finished or not), rebuilds the run's own probe samples (8,000 /
4,000 unbiased pairs under ``trifeature_cpu``), fits one multinomial logistic regression per texture term on
the standardised features (scikit-learn, fixed C) and prints the recall of every texture and the confusion
matrix (rows: true texture, columns: predicted). A diagnostic of issue 11's texture misses, not a verdict:
the run's own probe (``estimators.probe``, C chosen on a hold-out split) gives the numbers the targets use.

    python benchmarks/texture_recall.py RUN_DIR [--C 10]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from generators.trifeature_render import TEXTURES
from interactions import config, experiment
from interactions.training import features, load_checkpoint, to_device
from interactions.types import CHECKPOINT_FILE, CONFIG_FILE


def recall_per_class(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Recall of each class (shape (n_classes,)); NaN for a class absent from ``y_true``."""
    return np.array(
        [np.mean(y_pred[y_true == k] == k) if np.any(y_true == k) else np.nan for k in range(n_classes)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--C", type=float, default=10.0, help="inverse L2 strength of the probe (default 10)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:  # a running sweep may replace the file while it is read
        shutil.copy(args.run_dir / CHECKPOINT_FILE, Path(tmp) / CHECKPOINT_FILE)
        state = load_checkpoint(Path(tmp) / CHECKPOINT_FILE, torch.device("cpu"))
    exp = config.resolve(config.tomllib.loads((args.run_dir / CONFIG_FILE).read_text(encoding="utf-8")))
    if exp.generator.name != "trifeature":
        raise ValueError(f"{str(args.run_dir)!r} is a {exp.generator.name!r} run, not a Trifeature one")
    cpu = torch.device("cpu")
    model, objective = experiment.trained_networks(exp, state, cpu)

    def embed(sample):
        x1, x2 = (to_device(np.asarray(x), cpu) for x in (sample.x1, sample.x2))
        return features(model, objective, x1, x2, exp.train.eval_batch_size, amp=False)

    train, test = experiment.draw_eval_samples(exp)
    scaler = StandardScaler().fit(z_train := embed(train))
    z_train, z_test = scaler.transform(z_train), scaler.transform(embed(test))
    print(
        f"{args.run_dir.name}: {exp.objective.name}, seed {exp.seed}, epoch {state['epoch']}, C = {args.C:g}"
    )
    for term in ("unique_1", "unique_2"):
        probe = LogisticRegression(C=args.C, max_iter=2000).fit(z_train, train.targets[term])
        y, pred = test.targets[term], probe.predict(z_test)
        recall = recall_per_class(y, pred, len(TEXTURES))
        print(f"\n{term}: balanced accuracy {np.nanmean(recall):.3f}")
        print("  " + "  ".join(f"{name} {r:.2f}" for name, r in zip(TEXTURES, recall, strict=True)))
        confusion = np.zeros((len(TEXTURES), len(TEXTURES)), dtype=int)
        np.add.at(confusion, (y, pred), 1)
        print(confusion)


if __name__ == "__main__":
    main()
