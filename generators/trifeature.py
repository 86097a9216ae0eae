"""``trifeature``: CoMM's bimodal Trifeature (spec 4), pairs of rendered images with known R, U and S.

Each image shows a shape, a texture and a colour (10 values each, ``trifeature_render``). The 1000
combinations are split by seed 42 into 800 train combinations (3 renders each: 2400 images) and 200 test
combinations (1 render each: 200 images), exactly as the reference code (``trifeature_split``). A sample is
an ordered pair (img_1, img_2) of images of one split with the same shape (self-pairs included), drawn
uniformly without replacement from the allowed pairs; with ``bias=1`` the pairs also satisfy
colour(img_2) = M(texture(img_1)) for the fixed bijection M (the synergy pre-training set), and with
0 < ``bias`` < 1 each pair is a biased pair with probability ``bias`` (a mixture of the two laws, whose exact
information the generator computes from the mixed pair law).

Targets (CoMM's probe tasks ``share / unique1 / unique2 / synergy``): redundancy = shape (10 classes),
unique_1 = texture of img_1, unique_2 = texture of img_2 (10 each), synergy = 1[(texture_1, colour_2) in M]
(2 classes, about 10 % positive on unbiased pairs).

Images (``trifeature_render``: the official images at 224 px) are **uint8 (n, 3, S, S) in 0..255**
(RGB, row 0 at the top) to save memory: 10,000 pairs at 224 px
are 3 GB instead of 12 GB as float32; the trainer converts them to float on the device.

Image banks (the 2400 + 200 fixed renders) are rendered once per generator on first use, shared with
``unbiased()``, and optionally cached on disk under ``cache_dir`` in files named by a hash of every
parameter that affects pixels (written to a temporary file and renamed, so a reader never sees a partial
file). ``views`` re-renders the attributes of a sample with fresh nuisance (position, rotations, phase,
noise and rain fields): the exact label-preserving augmentation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Union

import numpy as np

from interactions.atomic import atomic_write
from interactions.types import TERMS, BimodalSample, InteractionSpec

from .base import SPLITS, Generator, SeedLike, as_rng, check_int, check_n, check_split
from .trifeature_render import (
    COLOURS,
    SHAPES,
    TEXTURES,
    Nuisance,
    check_image_size,
    draw_nuisance,
    draw_official_nuisance,
    render,
)
from .trifeature_split import (
    N_TEST_COMBINATIONS,
    N_VALUES,
    PairBlocks,
    combination_counts,
    image_attributes,
    information_terms,
    pair_blocks,
    pair_distribution,
    split_table,
    texture_to_colour,
)

#: Bump when the rendering code changes pixels: it is part of the cache key.
RENDER_VERSION = "trifeature-render-2-official"
#: Largest image bank of one split, in bytes (``renders_per_combination`` x 800 x 3 x S^2).
MAX_BANK_BYTES = 8 * 2**30
_LATENTS = ("shape", "texture_1", "colour_1", "texture_2", "colour_2")


@dataclass(frozen=True)
class TrifeatureGenerator(Generator):
    """Bimodal Trifeature image pairs (Dufumier et al., ICLR 2025, arXiv 2409.07402, spec 4).

    Args:
        image_size: image side S in px (>= ``MIN_IMAGE_SIZE`` = 35; 224 gives the official images).
        bias: probability in [0, 1] that a pair is drawn from the biased pairs, colour(img_2) =
            M(texture(img_1)) (1: the paper's synergy pre-training set; 0: unbiased, the probes' law).
        split_seed: seed of the train/test split of the combinations (42 replays the paper's split).
        mapping_seed: seed of the texture -> colour bijection M, on its own generator (42: the paper's M).
        render_seed: seed of the fixed image banks (positions, rotations, phases of the 2400 + 200 images).
        renders_per_combination: renders of each train combination (3 in the paper).
        official_stream: draw the banks' nuisance by replaying the official random stream
            (``default_rng(render_seed)``, the split's shuffle first, then every image in loop order): with
            seeds 42 and 224 px the banks are the official data set. Costs about 20 s of drawing (the
            official per-image ``binomial`` fields); False draws the same law vectorised.
        cache_dir: folder for rendered image banks, or None to render in memory only.

    Example:
        >>> gen = TrifeatureGenerator(image_size=40)
        >>> s = gen.sample(4, seed=0)
        >>> s.x1.shape, s.x1.dtype, gen.allowed_pairs("test")
        ((4, 3, 40, 40), dtype('uint8'), 4094)
    """

    name: ClassVar[str] = "trifeature"

    image_size: int = 64
    bias: float = 0.0
    split_seed: int = 42
    mapping_seed: int = 42
    render_seed: int = 42
    renders_per_combination: int = 3
    cache_dir: Union[str, None] = None
    official_stream: bool = False

    def __post_init__(self) -> None:
        check_image_size(self.image_size)
        if isinstance(self.bias, (bool, np.bool_)) or not isinstance(self.bias, (int, float, np.number)):
            raise TypeError(f"bias must be a float in [0, 1], got {self.bias!r}")
        if not 0.0 <= float(self.bias) <= 1.0:
            raise ValueError(f"bias must be in [0, 1], got {self.bias}")
        object.__setattr__(self, "bias", float(self.bias))
        for name in ("split_seed", "mapping_seed", "render_seed"):
            check_int(name, getattr(self, name), 0)
        check_int("renders_per_combination", self.renders_per_combination, 1)
        bank_bytes = (
            self.renders_per_combination * (N_VALUES**3 - N_TEST_COMBINATIONS) * 3 * self.image_size**2
        )
        if bank_bytes > MAX_BANK_BYTES:
            raise ValueError(
                f"renders_per_combination={self.renders_per_combination} exceeds what the train split allows "
                f"at {self.image_size} px: its bank would take {bank_bytes / 2**30:.1f} GiB (limit "
                f"{MAX_BANK_BYTES / 2**30:.0f} GiB, i.e. at most "
                f"{MAX_BANK_BYTES // ((N_VALUES**3 - N_TEST_COMBINATIONS) * 3 * self.image_size**2)} renders)"
            )
        if not isinstance(self.official_stream, (bool, np.bool_)):
            raise TypeError(f"official_stream must be a bool, got {self.official_stream!r}")
        object.__setattr__(self, "official_stream", bool(self.official_stream))
        if self.cache_dir is not None:
            if not isinstance(self.cache_dir, (str, os.PathLike)):
                raise TypeError(f"cache_dir must be a path or None, got {self.cache_dir!r}")
            object.__setattr__(self, "cache_dir", os.fspath(self.cache_dir))
            _check_writable_dir(Path(self.cache_dir))
        self.__dict__["_memo"] = {}  # per-instance results (banks, pair blocks), shared by unbiased()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the parameters only: a copy in another process re-renders or reads the disk cache."""
        return {**self.__dict__, "_memo": {}}

    # ----------------------------------------------------------------------------------------- structure
    @property
    def n_classes(self) -> dict[str, int]:
        return {"redundancy": len(SHAPES), "unique_1": len(TEXTURES), "unique_2": len(TEXTURES), "synergy": 2}

    @property
    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        side = (3, self.image_size, self.image_size)
        return side, side

    @property
    def mapping(self) -> np.ndarray:
        """M as a read-only int64 array (10,): ``mapping[texture code] = colour code``."""
        m = texture_to_colour(self.mapping_seed)
        m.flags.writeable = False
        return m

    @property
    def mapping_names(self) -> dict[str, str]:
        """M by names, e.g. ``{"solid": "cyan", ...}`` for mapping_seed 42."""
        colours = tuple(COLOURS)
        return {TEXTURES[t]: colours[c] for t, c in enumerate(self.mapping)}

    def unbiased(self) -> TrifeatureGenerator:
        """The same generator with ``bias=0`` (the probes' distribution); shares the image banks."""
        if self.bias == 0.0:
            return self
        other = dataclasses.replace(self, bias=0.0)
        other.__dict__["_memo"] = self._memo_banks()
        return other

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def image_attributes(self, split: str = "train") -> np.ndarray:
        """(shape, texture, colour) codes of the split's image bank, int64 (N, 3) (2400 or 200 rows)."""
        return image_attributes(split, self.split_seed, self.renders_per_combination)

    def allowed_pairs(self, split: str = "train") -> int:
        """Pairs ``sample`` draws from (train / test: 576,846 / 4,094 unbiased, 57,636 / 404 at bias 1; a
        mixture 0 < bias < 1 draws from the unbiased pairs, which contain the biased ones)."""
        return self._blocks(check_split(split), self.bias == 1.0).total

    # ------------------------------------------------------------------------------------- information
    def ground_truth(self, split: str = "train") -> InteractionSpec:
        """Exact PID atoms (bits) of each term's target under the law of the pairs ``sample`` draws.

        The law is uniform over the allowed pairs of ``split`` (a mixture (1 - bias) unbiased + bias biased
        of two such laws when 0 < bias < 1); image k carries exactly its attributes
        A_k (renders are injective in them and their nuisance is independent of everything else), so every
        quantity below is computed exactly from the split's combination counts:

        * redundancy = H(shape): both images determine the shape (R of target shape; U = S = 0).
        * unique_1 = H(texture_1 | A_2): image 1 determines texture_1, so under BROJA and MMI alike the
          unique part is what image 2 leaves unknown, and the rest, I(A_2; texture_1), is redundant.
          Unbiased, texture_1 and A_2 are independent given the shape, so U1 = H(texture_1 | shape)
          (< H(texture_1) because the split removes combinations: 3.304 of 3.320 bits on train, 3.007 of
          3.285 on test). Biased, colour_2 = M(texture_1) reveals texture_1: U1 = 0 (texture_1 is
          entirely redundant).
        * unique_2 = H(texture_2 | A_1), symmetric (biased: > 0 but less than unbiased, since colour_2 is
          fixed by texture_1).
        * synergy = H(y) - max(I(A_1; y), I(A_2; y)) for y = 1[colour_2 = M(texture_1)]: the MMI synergy.
          I(A_k; y) is not exactly 0 on a split (train 0.002 bits, test 0.03 bits); the BROJA value lies in
          [H(y) - I(A_1; y) - I(A_2; y), this value]. Biased, y = 1 always: S = 0.

        Hence ``measure="mmi"`` (R, U1, U2 are the same under BROJA). A probe of a perfect representation
        reads H(target) (``target_information``), which exceeds the atom by the target's redundant part.

        Args:
            split: "train" or "test".
        """
        info = self._information(check_split(split))
        note = (
            f"trifeature {split} split, pairs with bias {self.bias:g}: PID atoms of each "
            f"term's own target (R of shape, U1 of texture_1, U2 of texture_2, S of 1[colour_2 = "
            f"M(texture_1)]); H(targets) = {info['H_shape']:.4f}, {info['H_texture_1']:.4f}, "
            f"{info['H_texture_2']:.4f}, {info['H_synergy']:.4f} bits; BROJA S in "
            f"[{max(info['H_synergy'] - info['I1_y'] - info['I2_y'], 0.0):.4f}, {info['S']:.4f}]"
        )
        return InteractionSpec(info["R"], info["U1"], info["U2"], info["S"], measure="mmi", note=note)

    def target_information(self, split: str = "train") -> dict[str, float]:
        """I(X1, X2; target) = H(target) in bits for each term's target (what a perfect probe reads)."""
        info = self._information(check_split(split))
        keys = ("H_shape", "H_texture_1", "H_texture_2", "H_synergy")
        return {term: info[key] for term, key in zip(TERMS, keys)}

    def _information(self, split: str) -> dict[str, float]:
        key, memo = ("information", split, self.bias), self._memo_banks()
        if key not in memo:
            counts = combination_counts(self.image_attributes(split))
            mapping = self.mapping
            joint = (1.0 - self.bias) * pair_distribution(counts, None) if self.bias < 1 else 0.0
            if self.bias > 0:
                joint = joint + self.bias * pair_distribution(counts, mapping)
            memo[key] = information_terms(joint, mapping)
        return memo[key]

    # ---------------------------------------------------------------------------------------- sampling
    def sample(self, n: int, seed: SeedLike = 0, *, split: str = "train") -> BimodalSample:
        """Draw ``n`` distinct allowed pairs of ``split`` uniformly without replacement.

        Returns:
            ``BimodalSample`` with x1, x2 uint8 (n, 3, S, S) in 0..255; targets int64 (n,); latents
            ``shape, texture_1, colour_1, texture_2, colour_2`` and the bank indices ``image_1, image_2``,
            int64 (n,).

        Raises:
            ValueError: if ``n`` exceeds the number of allowed pairs of the split (stated in the message).
        """
        n = check_n(n)
        split = check_split(split)
        self._check_n_pairs(n, split)
        rng = as_rng(seed)
        if self.bias in (0.0, 1.0):
            blocks = self._blocks(split, self.bias == 1.0)
            i, j = blocks.decode(rng.choice(blocks.total, size=n, replace=False))
        else:  # mixture: each pair is biased with probability bias; distinct within each component
            n_biased = int(rng.binomial(n, self.bias))
            biased, plain = self._blocks(split, True), self._blocks(split, False)
            if n_biased > biased.total:
                raise ValueError(
                    f"n={n} at bias={self.bias} drew {n_biased} biased pairs, more than the {biased.total} "
                    f"biased pairs of the {split} split; use a smaller n"
                )
            order = rng.permutation(n)  # biased and unbiased pairs interleaved at random
            i1, j1 = biased.decode(rng.choice(biased.total, size=n_biased, replace=False))
            i0, j0 = plain.decode(rng.choice(plain.total, size=n - n_biased, replace=False))
            i, j = np.concatenate([i1, i0])[order], np.concatenate([j1, j0])[order]
        images = self._bank(split)
        attrs = self.image_attributes(split)
        latents = {
            "shape": attrs[i, 0],
            "texture_1": attrs[i, 1],
            "colour_1": attrs[i, 2],
            "texture_2": attrs[j, 1],
            "colour_2": attrs[j, 2],
            "image_1": i,
            "image_2": j,
        }
        meta = {
            "generator": self.name,
            "split": split,
            "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,
            "params": self.params(),
        }
        return BimodalSample(
            images[i], images[j], self._targets(latents), latents, self.ground_truth(split), meta
        )

    def views(self, sample: BimodalSample, seed: SeedLike = 0) -> BimodalSample:
        """Re-render both images of every pair with fresh nuisance; attributes, targets and spec unchanged."""
        n = len(sample)
        for key in _LATENTS:
            value = sample.latents.get(key)
            if value is None or value.shape != (n,) or not np.issubdtype(value.dtype, np.integer):
                raise ValueError(
                    f"sample.latents[{key!r}] must be an int array of shape ({n},) for trifeature"
                )
        lat = sample.latents
        rng = as_rng(seed)
        images = render(
            np.concatenate([lat["shape"], lat["shape"]]),
            np.concatenate([lat["texture_1"], lat["texture_2"]]),
            np.concatenate([lat["colour_1"], lat["colour_2"]]),
            self.image_size,
            rng,
        )
        meta = dict(sample.meta, view_seed=int(seed) if isinstance(seed, (int, np.integer)) else None)
        return BimodalSample(images[:n], images[n:], dict(sample.targets), dict(lat), sample.spec, meta)

    def _targets(self, latents: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        synergy = (latents["colour_2"] == self.mapping[latents["texture_1"]]).astype(np.int64)
        return {
            "redundancy": latents["shape"].copy(),
            "unique_1": latents["texture_1"].copy(),
            "unique_2": latents["texture_2"].copy(),
            "synergy": synergy,
        }

    # -------------------------------------------------------------------------------- banks and cache
    def _memo_banks(self) -> dict[str, Any]:
        return self.__dict__["_memo"]

    def _check_n_pairs(self, n: int, split: str) -> None:
        """Raise before any rendering if ``n`` pairs cannot be drawn without replacement from ``split``."""
        total = self.allowed_pairs(split)
        if n > total:
            kind = "biased" if self.bias == 1.0 else "unbiased"
            raise ValueError(
                f"n={n} exceeds the {total} allowed {kind} pairs of the {split} split "
                f"(renders_per_combination={self.renders_per_combination})"
            )

    def _blocks(self, split: str, biased: bool) -> PairBlocks:
        key = ("blocks", split, biased)
        memo = self._memo_banks()
        if key not in memo:
            memo[key] = pair_blocks(self.image_attributes(split), self.mapping if biased else None)
        return memo[key]

    def cache_key(self, split: str) -> dict[str, Any]:
        """Everything that determines the pixels of a split's bank (hashed into the cache file name)."""
        return {
            "version": RENDER_VERSION,
            "numpy": np.__version__.split(".")[0],
            "split": check_split(split),
            "image_size": self.image_size,
            "split_seed": self.split_seed,
            "render_seed": self.render_seed,
            "renders_per_combination": self.renders_per_combination,
            "official_stream": self.official_stream,
        }

    def cache_path(self, split: str) -> Path | None:
        """File of the split's cached bank under ``cache_dir`` (None without a cache)."""
        if self.cache_dir is None:
            return None
        blob = json.dumps(self.cache_key(split), sort_keys=True).encode()
        digest = hashlib.sha256(blob).hexdigest()[:20]
        return Path(self.cache_dir) / f"trifeature-{split}-{self.image_size}px-{digest}.npz"

    def bank_nuisance(self, split: str) -> Nuisance:
        """Nuisance of the split's fixed images (``official_stream``: replayed from the official stream)."""
        split = check_split(split)
        attrs = self.image_attributes(split)
        if not self.official_stream:
            rng = np.random.default_rng(np.random.SeedSequence([self.render_seed, SPLITS.index(split)]))
            return draw_nuisance(attrs[:, 1], rng)
        return _official_nuisance(self.render_seed, self.split_seed, self.renders_per_combination)[split]

    def _bank(self, split: str) -> np.ndarray:
        """The split's fixed images, uint8 (N, 3, S, S), read-only; rendered once per process (shared by
        generators with equal pixel parameters), or read from the disk cache."""
        memo = self._memo_banks()
        if ("bank", split) not in memo:
            key = self.cache_key(split)
            shared = json.dumps(key, sort_keys=True)
            images, path = _BANKS.get(shared), self.cache_path(split)
            if images is None and path is not None:
                expected = (len(self.image_attributes(split)), *self.shapes[0])
                images = _read_bank(path, key, expected)
            if images is None:
                attrs = self.image_attributes(split)
                nuisance = self.bank_nuisance(split)
                images = render(attrs[:, 0], attrs[:, 1], attrs[:, 2], self.image_size, nuisance=nuisance)
                if path is not None:
                    _write_bank(path, key, images)
            images.flags.writeable = False
            _BANKS[shared] = images
            while len(_BANKS) > _MAX_SHARED_BANKS:
                _BANKS.pop(next(iter(_BANKS)))
            memo[("bank", split)] = images
        return memo[("bank", split)]


#: Banks rendered in this process, by cache key (oldest first), so that equal generators render once.
_BANKS: dict[str, np.ndarray] = {}
_MAX_SHARED_BANKS = 6


def _official_nuisance(render_seed: int, split_seed: int, renders: int) -> dict[str, Nuisance]:
    """Both splits' nuisance as the official code draws it: ``default_rng(render_seed)`` shuffles the split
    array first, then every combination in loop order (shape, texture, colour) draws its images (1 test,
    ``renders`` train) in turn."""
    rng = np.random.default_rng(render_seed)
    rng.shuffle(np.array([1] * N_TEST_COMBINATIONS + [0] * (N_VALUES**3 - N_TEST_COMBINATIONS)))
    test = split_table(split_seed).reshape(-1)
    counts = np.where(test, 1, renders)
    textures = np.repeat(np.arange(N_VALUES**3) // N_VALUES % N_VALUES, counts)
    everything = draw_official_nuisance(textures, rng)
    is_test = np.repeat(test, counts)
    return {
        "train": everything.subset(np.flatnonzero(~is_test)),
        "test": everything.subset(np.flatnonzero(is_test)),
    }


def _check_writable_dir(path: Path) -> None:
    """Raise ValueError unless ``path`` is a writable folder or could be created as one."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ValueError(f"cache_dir {str(path)!r} is not a folder ({str(probe)!r} is a file)")
    if not os.access(probe, os.W_OK | os.X_OK):
        what = "is not writable" if probe == path else f"cannot be created ({str(probe)!r} is not writable)"
        raise ValueError(f"cache_dir {str(path)!r} {what}")


def _read_bank(path: Path, key: dict[str, Any], shape: tuple[int, ...]) -> np.ndarray | None:
    """The cached images if ``path`` holds a complete bank of ``shape`` for exactly ``key``, else None."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if json.loads(str(data["key"])) != key or data["images"].shape != shape:
                return None
            images = np.array(data["images"])
            return images if images.dtype == np.uint8 else None
    except (OSError, ValueError, KeyError, EOFError):  # unreadable: render again and overwrite
        return None


def _write_bank(path: Path, key: dict[str, Any], images: np.ndarray) -> None:
    """Write atomically: a temporary file in the same folder, then ``os.replace``."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, images=images, key=np.array(json.dumps(key, sort_keys=True)))
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(path, write)
