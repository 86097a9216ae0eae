"""Config overrides that make a real run train and probe in seconds on one CPU core (shared by the tests;
importable because ``tests/conftest.py`` puts this folder on ``sys.path``)."""

from __future__ import annotations

#: The fusion transformer shrunk (width 16, 4 tokens): 2 epochs of 128 pairs, probes on 128 / 128 pairs.
TINY_RUN: list[str] = [
    "model.width=16",
    "model.hidden=16",
    "model.n_tokens=4",
    "model.heads=2",
    "train.n_train=128",
    "train.epochs=2",
    "train.batch_size=64",
    "train.eval_every=1",
    "train.device='cpu'",
    "probe.n_train=128",
    "probe.n_test=128",
]

#: Smaller still, for benches and sweeps of many runs: 1 epoch of 64 pairs, width 8, 2 tokens.
TINY_BENCH: list[str] = [
    "train.epochs=1",
    "train.n_train=64",
    "train.batch_size=32",
    "train.eval_every=1",
    "train.device='cpu'",
    "probe.n_train=64",
    "probe.n_test=64",
    "model.width=8",
    "model.hidden=16",
    "model.n_tokens=2",
    "model.heads=2",
]
