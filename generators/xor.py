"""``xor``: bits of redundancy, uniqueness and synergy hidden in continuous nuisance (the CPU workhorse).

Latents of one draw (all bits uniform and independent unless ``bias > 0``):

* ``r`` (``redundancy`` bits) seen by both modalities, ``u1`` / ``u2`` (``unique_1`` / ``unique_2`` bits)
  seen only by x1 / x2, ``s1`` / ``s2`` (``synergy * synergy_order`` bits each) seen by x1 / x2;
* ``nuisance_1`` / ``nuisance_2``: ``nuisance`` continuous coordinates per modality, each g + margin *
  sign(g) with g ~ N(0, 1), independent across modalities and of every target.

Observation of modality i: its bits ``(r, u_i, s_i)`` as +-1 are each multiplied by the signs of
``coupling`` nuisance coordinates of their own (``lifts.parity_couple``), concatenated with the nuisance and
lifted into ``dim`` features by a fixed injective map (``lifts.Lift``, seeded by ``lift_seed``), plus
observation noise of std ``noise``. Because of the coupling, a bit is readable only by a model that has
learned its interaction with the nuisance (the observation is an injective function of the latents, so a
flexible classifier still recovers every bit).

Defaults (``coupling=1``, one uncoupled distractor): how much an *untrained* encoder's linear probe reads
depends on the encoder. The CoMM fusion transformer at initialisation reads about 0.2-0.5 of the unique bits
and nothing of the synergy (the ``floor`` column of every run); a pooled random MLP reads most of a
coupling-1 bit. ``coupling=2`` (a parity of order 3 per bit) hides the bits even from a pooled random MLP
(``python benchmarks/bench_generators.py`` prints that floor), but then no objective escaped its initial
plateau within the CPU budget of the shipped ``xor`` experiment, so the defaults use ``coupling=1``.

Targets (integer codes, bit j has weight 2**j; a term with 0 bits has an all-zero target):
``redundancy = code(r)``, ``unique_1 = code(u1)``, ``unique_2 = code(u2)``, ``synergy = code(s1 XOR s2)``.

Higher-order synergy (``synergy_order = m > 1``): each modality holds ``m`` synergy bits per target bit, and
target bit j is the parity of all ``2 m`` of them, T_j = parity(s1[j m : (j + 1) m]) XOR parity(s2[j m :
(j + 1) m]) (``grouped_parity``). Any ``2 m - 1`` of those bits are independent of T_j, so the label is an
interaction of order ``2 m`` between the modalities (m = 1 is the plain XOR). The decomposition is the same
as for m = 1 (below), with T the grouped parity.

``bias``: with probability ``bias`` a draw is *matched*, ``s2 = s1`` (so its synergy code is 0), otherwise
``s2`` is uniform (for every ``synergy_order``); this is the Trifeature paper's biased pre-training
(colour_2 = M(texture_1)) transposed to bits. Training data then carries the relation that the unbiased
evaluation data (``unbiased()``) tests.

Ground truth (``ground_truth``): the BROJA decomposition (Bertschinger et al. 2014) for the joint target
``Y = (r, u1, u2, s1 XOR s2)``, X1 = (r, u1, s1), X2 = (r, u2, s2); the blocks are independent and BROJA
is additive over independent blocks (checked with dit in the tests), so R, U1, U2 are the bit counts and
S = H(T) for T = s1 XOR s2 (or the grouped parity). Under
bias ``b`` with ``k = synergy`` bits, T = 0 with probability ``b + (1 - b) / 2**k`` and every other code
with ``(1 - b) / 2**k``; T stays independent of s1 and of s2 (the joint of (s1, s2) is symmetric and
T | s1 has that same law), so I(X_i; T) = 0 and S = H(T). The minimum-MI measure would give 2/0/0/2 for
one bit of each (reference-values C1), which is why the measure is BROJA.
With ``noise > 0`` the spec is still the latent-level decomposition above: it is what the observations
carry in the limit noise -> 0; at finite noise they carry at most that much.

Distractors: of the ``nuisance`` coordinates per modality, ``coupling`` per bit of the wider modality are
multiplied into the bits; the rest (``n_distractors``) carry nothing and only widen the input.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from interactions.types import BimodalSample, InteractionSpec

from .base import SPLITS, Generator, SeedLike, check_int, check_n, check_split
from .lifts import Lift, make_lift, parity_couple

#: Largest number of bits of one term (2**12 = 4096 classes).
MAX_BITS_PER_TERM = 12
#: Largest total number of bits (the joint target has 2**total outcomes).
MAX_BITS_TOTAL = 24
_TERM_FIELDS = ("redundancy", "unique_1", "unique_2", "synergy")
_VIEW_STREAM = len(SPLITS)
#: Automatic ``nuisance``: coupling * (bits of the wider modality) + FREE_NUISANCE uncoupled distractors.
FREE_NUISANCE = 1
#: Automatic ``dim``: max(MIN_DIM, bits + nuisance + 3).
MIN_DIM = 16


def _check_real(name: str, value: Any, lo: float, hi: float = math.inf, open_lo: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < lo or value > hi or (open_lo and value == lo):
        bound = f"({lo}, {hi}]" if open_lo else f"[{lo}, {hi}]"
        raise ValueError(f"{name} must be a finite number in {bound}, got {value!r}")
    return value


def stream_rng(seed: SeedLike, stream: int) -> np.random.Generator:
    """The generator for ``seed`` and a stream id (split or views), so train/test/views never coincide.

    A ``numpy.random.Generator`` passed as seed is used as is.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(np.random.SeedSequence([*seed.generate_state(2), stream]))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or numpy.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(np.random.SeedSequence([int(seed), stream]))


def grouped_parity(bits: np.ndarray, order: int) -> np.ndarray:
    """Parity of consecutive groups of ``order`` bits. Shape: (n, k * order) -> (n, k), uint8.

    Column j of the result is the XOR of columns ``j * order`` to ``(j + 1) * order - 1``; ``order = 1``
    returns the bits unchanged.
    """
    n, width = bits.shape
    if order < 1 or width % order:
        raise ValueError(f"cannot split {width} bits into groups of order={order}")
    return np.bitwise_xor.reduce(bits.reshape(n, width // order, order), axis=2).astype(np.uint8)


def bits_to_code(bits: np.ndarray) -> np.ndarray:
    """Integer code of bit rows, bit j weighted 2**j. Shape: (n, k) -> (n,), int64 (zeros if k = 0)."""
    return bits.astype(np.int64) @ (np.int64(1) << np.arange(bits.shape[1], dtype=np.int64))


def biased_xor_entropy(k: int, bias: float) -> float:
    """H(s1 XOR s2) in bits when s2 = s1 with probability ``bias`` and uniform otherwise (k bits each)."""
    if k == 0:
        return 0.0
    other = (1.0 - bias) / 2**k
    zero = bias + other
    h = -zero * math.log2(zero)
    if other > 0:
        h -= (2**k - 1) * other * math.log2(other)
    return h


@dataclass(frozen=True)
class XORGenerator(Generator):
    """Bits of redundancy, uniqueness and synergy, lifted with continuous nuisance into two vectors.

    Args:
        redundancy: shared bits r (0..12).
        unique_1: bits u1 seen only by x1 (0..12).
        unique_2: bits u2 seen only by x2 (0..12).
        synergy: bits of the synergy target (0..12); with ``synergy_order = 1`` the target is s1 XOR s2.
        dim: observed width of each modality, >= bits of the modality + nuisance. None (default):
            ``max(16, bits + nuisance + 3)`` for the wider modality (16 for one bit of each kind).
        nuisance: continuous nuisance latents per modality, >= ``coupling`` * bits of the modality. None
            (default): ``coupling * bits + 1`` for the wider modality (4 for one bit of each kind), so one
            nuisance coordinate is an uncoupled distractor.
        coupling: nuisance signs multiplied into each bit (0 = bits enter the lift directly). With 2, a
            bit is a parity of order 3 with two nuisance signs: any two of (coupled bit, sign, sign) are
            independent of it, so only a model that combines all three reads it.
        noise: std of Gaussian observation noise added to x (>= 0).
        bias: probability that a draw is matched (s2 = s1), in [0, 1]; 0 is the evaluation distribution.
        depth: layers of the lift (1..8).
        gain: scale of the lift's weights (> 0); larger is more nonlinear.
        margin: the nuisance is g + margin * sign(g) with g ~ N(0, 1) (a gap around 0, so the nuisance
            signs, and hence the bits, are recoverable with a margin by a learned model).
        lift_seed: seed of the fixed lift maps (one per modality).
        synergy_order: bits of each modality behind one synergy bit (1..12, ``synergy * synergy_order <=
            12``): synergy bit j is the parity of ``synergy_order`` bits of s1 and as many of s2, an
            interaction of order ``2 * synergy_order`` (1 = the plain XOR).

    Example:
        >>> gen = XORGenerator()
        >>> s = gen.sample(8, seed=0)
        >>> s.x1.shape, s.targets["synergy"].shape, gen.ground_truth().as_dict()["synergy"]
        ((8, 16), (8,), 1.0)
    """

    name: ClassVar[str] = "xor"

    redundancy: int = 1
    unique_1: int = 1
    unique_2: int = 1
    synergy: int = 1
    dim: int | None = None
    nuisance: int | None = None
    coupling: int = 1
    noise: float = 0.0
    bias: float = 0.0
    depth: int = 1
    gain: float = 1.0
    margin: float = 1.0
    lift_seed: int = 0
    synergy_order: int = 1

    def __post_init__(self) -> None:
        for term in _TERM_FIELDS:
            check_int(term, getattr(self, term), 0, MAX_BITS_PER_TERM)
        total = sum(getattr(self, t) for t in _TERM_FIELDS)
        if total > MAX_BITS_TOTAL:
            raise ValueError(
                f"total bits redundancy+unique_1+unique_2+synergy = {total} exceeds {MAX_BITS_TOTAL}"
            )
        check_int("synergy_order", self.synergy_order, 1, MAX_BITS_PER_TERM)
        if self.synergy * self.synergy_order > MAX_BITS_PER_TERM:
            raise ValueError(
                f"synergy * synergy_order = {self.synergy} * {self.synergy_order} latent bits per modality "
                f"exceeds {MAX_BITS_PER_TERM}"
            )
        check_int("coupling", self.coupling, 0, 8)
        check_int("depth", self.depth, 1, 8)
        check_int("lift_seed", self.lift_seed, 0, 2**63 - 1)
        widest = max(self._modality_bits())
        nuisance = self.coupling * widest + FREE_NUISANCE if self.nuisance is None else self.nuisance
        dim = max(MIN_DIM, widest + nuisance + 3) if self.dim is None else self.dim
        object.__setattr__(self, "_nuisance", check_int("nuisance", nuisance, 0, 4096))
        object.__setattr__(self, "_dim", check_int("dim", dim, 1, 4096))
        object.__setattr__(self, "noise", _check_real("noise", self.noise, 0.0))
        object.__setattr__(self, "bias", _check_real("bias", self.bias, 0.0, 1.0))
        object.__setattr__(self, "margin", _check_real("margin", self.margin, 0.0, 100.0))
        object.__setattr__(self, "gain", _check_real("gain", self.gain, 0.0, 100.0, open_lo=True))
        for i, k in enumerate(self._modality_bits(), start=1):
            if nuisance < self.coupling * k:
                raise ValueError(
                    f"nuisance={nuisance} is too small: coupling={self.coupling} needs "
                    f"{self.coupling * k} nuisance latents for the {k} bits of modality {i}"
                )
            if dim < k + nuisance:
                raise ValueError(
                    f"dim={dim} is too small for an injective lift of modality {i}: need >= "
                    f"{k} bits + {nuisance} nuisance = {k + nuisance}"
                )

    @property
    def width(self) -> int:
        """Observed width of each modality (``dim``, or its automatic value)."""
        return self._dim  # type: ignore[attr-defined]

    @property
    def n_nuisance(self) -> int:
        """Nuisance latents per modality (``nuisance``, or its automatic value)."""
        return self._nuisance  # type: ignore[attr-defined]

    @property
    def n_distractors(self) -> int:
        """Nuisance coordinates per modality that no bit is coupled to (pure distractors)."""
        return self.n_nuisance - self.coupling * max(self._modality_bits())

    def _modality_bits(self) -> tuple[int, int]:
        synergy = self.synergy * self.synergy_order
        return (
            self.redundancy + self.unique_1 + synergy,
            self.redundancy + self.unique_2 + synergy,
        )

    @functools.cached_property
    def lifts(self) -> tuple[Lift, Lift]:
        """The fixed lifts of modality 1 and 2 (seeded by ``lift_seed``)."""
        seeds = np.random.SeedSequence(self.lift_seed).generate_state(2)
        return tuple(  # type: ignore[return-value]
            make_lift(
                k + self.n_nuisance, self.width, depth=self.depth, gain=self.gain, slope=0.1, seed=int(s)
            )
            for k, s in zip(self._modality_bits(), seeds)
        )

    @property
    def n_classes(self) -> dict[str, int]:
        return {t: 2 ** getattr(self, t) for t in _TERM_FIELDS}

    @property
    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (self.width,), (self.width,)

    def ground_truth(self) -> InteractionSpec:
        """BROJA decomposition of I(X1, X2; Y), Y = (r, u1, u2, s1 XOR s2), in bits (see module doc)."""
        note = (
            "BROJA PID for the joint target Y = (r, u1, u2, s1 XOR s2); each term also equals the entropy "
            "of its own target. Latent-level values: exact for noise = 0, the noise -> 0 limit otherwise"
        )
        if self.synergy_order > 1:
            note += f"; synergy bits are parities of {self.synergy_order} bits of each modality"
        if self.bias > 0:
            note += f"; biased draws (bias={self.bias}): S = H(s1 XOR s2) of the biased law"
        return InteractionSpec(
            float(self.redundancy),
            float(self.unique_1),
            float(self.unique_2),
            biased_xor_entropy(self.synergy, self.bias),
            measure="broja",
            note=note,
        )

    def sample(self, n: int, seed: SeedLike = 0, *, split: str = "train") -> BimodalSample:
        """Draw ``n`` samples; ``split`` only selects an independent random stream (same distribution).

        Returns:
            ``BimodalSample`` with x1, x2 float32 (n, dim); targets int64 (n,); latents ``r, u1, u2, s1,
            s2`` uint8 (n, k) (for s1, s2: k = synergy * synergy_order) and ``nuisance_1, nuisance_2``
            float32 (n, nuisance).
        """
        n = check_n(n)
        rng = stream_rng(seed, SPLITS.index(check_split(split)))

        def bits(k: int) -> np.ndarray:
            return rng.integers(0, 2, size=(n, k), dtype=np.uint8)

        r, u1, u2, s1, s2 = (bits(k) for k in self._latent_bits())
        if self.bias > 0:
            matched = rng.random(n) < self.bias
            s2[matched] = s1[matched]
        latents = {"r": r, "u1": u1, "u2": u2, "s1": s1, "s2": s2}
        meta = {"split": split, "seed": int(seed) if isinstance(seed, (int, np.integer)) else None}
        return self._observe(latents, rng, meta)

    def views(self, sample: BimodalSample, seed: SeedLike = 0) -> BimodalSample:
        """Same bits and targets as ``sample``, fresh nuisance and fresh observation noise."""
        expected = dict(zip(("r", "u1", "u2", "s1", "s2"), self._latent_bits()))
        for key, k in expected.items():
            value = sample.latents.get(key)
            if value is None or value.shape != (len(sample), k):
                raise ValueError(
                    f"sample.latents[{key!r}] must have shape ({len(sample)}, {k}) for this generator, "
                    f"got {None if value is None else value.shape}"
                )
        rng = stream_rng(seed, _VIEW_STREAM)
        meta = dict(sample.meta, view_seed=int(seed) if isinstance(seed, (int, np.integer)) else None)
        return self._observe({key: sample.latents[key] for key in expected}, rng, meta)

    def _latent_bits(self) -> tuple[int, ...]:
        synergy = self.synergy * self.synergy_order
        return self.redundancy, self.unique_1, self.unique_2, synergy, synergy

    def _observe(
        self, bits: dict[str, np.ndarray], rng: np.random.Generator, meta: dict[str, Any]
    ) -> BimodalSample:
        """Draw nuisance and noise and lift ``bits`` into x1, x2."""
        n = len(bits["r"])
        latents: dict[str, np.ndarray] = dict(bits)
        xs = []
        for i in (1, 2):
            own = (bits["r"], bits[f"u{i}"], bits[f"s{i}"])
            g = rng.standard_normal((n, self.n_nuisance))
            nuisance = (g + self.margin * np.where(g >= 0, 1.0, -1.0)).astype(np.float32)
            latents[f"nuisance_{i}"] = nuisance
            xs.append(self.lift_latents(np.concatenate(own, axis=1), nuisance, modality=i))
        for x in xs:
            if self.noise > 0:
                x += (self.noise * rng.standard_normal(x.shape)).astype(np.float32)
        targets = {
            "redundancy": bits_to_code(bits["r"]),
            "unique_1": bits_to_code(bits["u1"]),
            "unique_2": bits_to_code(bits["u2"]),
            "synergy": bits_to_code(grouped_parity(bits["s1"] ^ bits["s2"], self.synergy_order)),
        }
        meta = {"generator": self.name, "params": self.params(), **meta}
        return BimodalSample(xs[0], xs[1], targets, latents, self.ground_truth(), meta)

    def lift_latents(self, bits: np.ndarray, nuisance: np.ndarray, modality: int) -> np.ndarray:
        """Noise-free observation of one modality.

        Args:
            bits: the modality's bits (r, u_i, s_i) concatenated, uint8 (n, k).
            nuisance: its nuisance, (n, nuisance).
            modality: 1 or 2 (selects the lift).

        Returns:
            x, float32 (n, dim).
        """
        coupled = parity_couple(2.0 * bits - 1.0, nuisance.astype(np.float64), self.coupling)
        h = np.concatenate([coupled, nuisance.astype(np.float64)], axis=1)
        return self.lifts[modality - 1](h).astype(np.float32)

    def recover_bits(self, x: np.ndarray, modality: int) -> np.ndarray:
        """Invert the noise-free lift of one modality: x (n, dim) -> its bits (r, u_i, s_i), uint8 (n, k).

        Exact on noise-free observations (up to float32 rounding of x); used to prove injectivity.
        """
        k = self._modality_bits()[modality - 1]
        h = self.lifts[modality - 1].inverse(np.asarray(x, dtype=np.float64))
        coupled, nuisance = np.sign(h[:, :k]), h[:, k:]
        return ((parity_couple(coupled, nuisance, self.coupling) + 1) / 2).astype(np.uint8)
