"""The bimodal Trifeature split, its allowed image pairs and their exact information (spec 4.1-4.3).

Pure functions of the seeds; no image is rendered here, so counts and ground truth cost milliseconds.

* **Split.** ``numpy.random.default_rng(split_seed)`` shuffles 200 ones and 800 zeros over the 1000
  combinations in loop order shape -> texture -> colour; the ones are test. With seed 42 this replays the
  reference data exactly: test per-shape counts [19, 26, 20, 19, 25, 15, 19, 18, 19, 20].
* **Mapping M** (texture -> colour): ``default_rng(mapping_seed).permutation(10)`` on its own generator, so
  it never depends on what was generated before (the official code's bug, spec 7.3). Seed 42 gives the
  spec's M = {solid: cyan, stripes: purple, grid: red, hexgrid: ocean, dots: yellow, noise: blue,
  triangles: pink, zigzags: white, rain: green, pluses: orange}.
* **Pairs.** Ordered pairs (i, j) of images of one split with shape(i) = shape(j), i = j included; biased
  pairs also need colour(j) = M(texture(i)). They are enumerated block by block (a block is the product of a
  set of left and a set of right images) so that a flat pair index decodes in O(log blocks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import check_split

N_VALUES = 10  # values of each attribute
N_TEST_COMBINATIONS = 200  # combinations marked test (spec 4.1)


def split_table(split_seed: int) -> np.ndarray:
    """Boolean (10, 10, 10) table over (shape, texture, colour): True for the test combinations."""
    marks = np.array([1] * N_TEST_COMBINATIONS + [0] * (N_VALUES**3 - N_TEST_COMBINATIONS))
    np.random.default_rng(split_seed).shuffle(marks)
    return marks.reshape(N_VALUES, N_VALUES, N_VALUES).astype(bool)


def texture_to_colour(mapping_seed: int) -> np.ndarray:
    """The bijection M as an int64 array: ``M[texture] = colour`` (its own seeded generator)."""
    return np.random.default_rng(mapping_seed).permutation(N_VALUES).astype(np.int64)


def image_attributes(split: str, split_seed: int, renders_per_combination: int) -> np.ndarray:
    """Attributes (shape, texture, colour) of the images of a split's bank, int64 (N, 3).

    Combinations in loop order shape -> texture -> colour; train repeats each ``renders_per_combination``
    times consecutively, test renders each once.
    """
    test = split_table(split_seed)
    chosen = test if check_split(split) == "test" else ~test
    combos = np.argwhere(chosen).astype(np.int64)  # argwhere walks in C order: shape -> texture -> colour
    return np.repeat(combos, 1 if split == "test" else renders_per_combination, axis=0)


def combination_counts(attributes: np.ndarray) -> np.ndarray:
    """Number of images per (shape, texture, colour), int64 (10, 10, 10)."""
    counts = np.zeros((N_VALUES,) * 3, dtype=np.int64)
    np.add.at(counts, tuple(attributes.T), 1)
    return counts


@dataclass(frozen=True)
class PairBlocks:
    """The allowed pairs as a union of blocks ``left_b x right_b`` of image indices.

    Attributes:
        left, right: image indices of all blocks, concatenated, int64.
        left_start, right_start, left_len, right_len: where block b's indices lie, int64 (n_blocks,).
        end: cumulative pair counts, int64 (n_blocks,); ``end[-1]`` is the number of allowed pairs.
    """

    left: np.ndarray
    right: np.ndarray
    left_start: np.ndarray
    right_start: np.ndarray
    left_len: np.ndarray
    right_len: np.ndarray
    end: np.ndarray

    @property
    def total(self) -> int:
        """Number of allowed ordered pairs."""
        return int(self.end[-1]) if len(self.end) else 0

    def decode(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat pair indices in [0, total) -> image indices (i, j), each int64 (n,)."""
        block = np.searchsorted(self.end, index, side="right")
        q = index - (self.end[block] - self.left_len[block] * self.right_len[block])
        i = self.left[self.left_start[block] + q // self.right_len[block]]
        j = self.right[self.right_start[block] + q % self.right_len[block]]
        return i, j


def pair_blocks(attributes: np.ndarray, mapping: np.ndarray | None) -> PairBlocks:
    """Allowed pairs of a bank: same shape (one block per shape), and with ``mapping`` also
    colour(j) = mapping[texture(i)] (one block per shape and texture of image i)."""
    shape, texture, colour = attributes.T
    lefts, rights = [], []
    for s in range(N_VALUES):
        same = shape == s
        if mapping is None:
            lefts.append(np.flatnonzero(same))
            rights.append(lefts[-1])
            continue
        for t in range(N_VALUES):
            lefts.append(np.flatnonzero(same & (texture == t)))
            rights.append(np.flatnonzero(same & (colour == mapping[t])))
    left_len = np.array([len(a) for a in lefts], dtype=np.int64)
    right_len = np.array([len(a) for a in rights], dtype=np.int64)
    return PairBlocks(
        left=np.concatenate(lefts),
        right=np.concatenate(rights),
        left_start=np.concatenate([[0], np.cumsum(left_len)[:-1]]),
        right_start=np.concatenate([[0], np.cumsum(right_len)[:-1]]),
        left_len=left_len,
        right_len=right_len,
        end=np.cumsum(left_len * right_len),
    )


def pair_distribution(counts: np.ndarray, mapping: np.ndarray | None) -> np.ndarray:
    """Exact law of (shape, texture_1, colour_1, texture_2, colour_2) of a pair drawn uniformly from the
    allowed pairs. Shape: (10, 10, 10, 10, 10), sums to 1."""
    joint = np.einsum("sab,scd->sabcd", counts, counts).astype(np.float64)
    if mapping is not None:
        joint *= synergy_label(mapping)[None, :, None, None, :]
    return joint / joint.sum()


def synergy_label(mapping: np.ndarray) -> np.ndarray:
    """y[texture_1, colour_2] = 1[colour_2 = M(texture_1)], int64 (10, 10)."""
    return (np.arange(N_VALUES)[None, :] == mapping[:, None]).astype(np.int64)


def entropy_bits(p: np.ndarray) -> float:
    """Shannon entropy in bits of a probability table (any shape; zeros ignored)."""
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def _h(joint: np.ndarray, keep: tuple[int, ...]) -> float:
    """Entropy of the marginal of ``joint`` on axes ``keep``."""
    drop = tuple(a for a in range(joint.ndim) if a not in keep)
    return entropy_bits(joint.sum(axis=drop))


def information_terms(joint: np.ndarray, mapping: np.ndarray) -> dict[str, float]:
    """Exact information (bits) of the pair law ``joint`` over (s, t1, c1, t2, c2).

    Image 1 carries A1 = (s, t1, c1), image 2 carries A2 = (s, t2, c2) (renders are injective in the
    attributes; their nuisance is independent of everything). Returns the entropies of the four targets
    (``H_*``), the mutual information of each image with the synergy label (``I1_y``, ``I2_y``), and the
    PID atoms of each target (``R``, ``U1``, ``U2``, ``S``); see ``TrifeatureGenerator.ground_truth``.
    """
    s, t1, c1, t2, c2 = range(5)
    y_joint = np.stack([(joint * (synergy_label(mapping)[None, :, None, None, :] == v)) for v in (0, 1)])
    a1, a2 = (s + 1, t1 + 1, c1 + 1), (s + 1, t2 + 1, c2 + 1)  # axes in y_joint (axis 0 is y)
    h_y = _h(y_joint, (0,))
    i1_y = _h(y_joint, a1) + h_y - _h(y_joint, (0, *a1))
    i2_y = _h(y_joint, a2) + h_y - _h(y_joint, (0, *a2))
    return {
        "H_shape": _h(joint, (s,)),
        "H_texture_1": _h(joint, (t1,)),
        "H_texture_2": _h(joint, (t2,)),
        "H_synergy": h_y,
        "I1_y": _clean(i1_y),
        "I2_y": _clean(i2_y),
        "R": _h(joint, (s,)),
        "U1": _clean(_h(joint, (s, t1, t2, c2)) - _h(joint, (s, t2, c2))),  # H(t1 | A2)
        "U2": _clean(_h(joint, (s, t1, c1, t2)) - _h(joint, (s, t1, c1))),  # H(t2 | A1)
        "S": _clean(h_y - max(i1_y, i2_y)),
    }


def _clean(x: float) -> float:
    """Differences of entropies that are exactly 0 come out as +-1e-15; return them as 0.0."""
    if x < -1e-9:
        raise AssertionError(f"negative information {x} bits: the pair law is inconsistent")
    return 0.0 if abs(x) < 1e-9 else float(x)
