"""Draw the Trifeature shape and texture grids into this folder.

Run: ``python docs/figures/trifeature_figures.py [sizes...]`` (default 224 64 48).

Layout as the official figures (``shared/docs/figures``): white, angle 0, centred; shapes solid, textures on
the square; two rows of five, each image scaled up by an integer factor (nearest neighbour) to about
224 px, with 4-px white separators. Writes ``trifeature_{shapes,textures}_{S}px.png`` for each size.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from generators.trifeature_render import (  # noqa: E402
    CANVAS,
    SHAPES,
    TEXTURES,
    Nuisance,
    box_side,
    render,
)


def centred(n: int, seed: int = 0) -> Nuisance:
    """n images at angle 0, the template centred (offset 48), fixed phases; noise and rain seeded."""
    h = int(box_side(np.array([0]))[0])
    off = (CANVAS - h) // 2
    return Nuisance(
        np.zeros(n, np.int64),
        np.full((n, 2), off, np.int64),
        np.zeros((n, 2), np.int64),
        np.zeros(n, np.int64),
        tuple(seed + k for k in range(n)),
    )


def grid(images: np.ndarray, columns: int = 5, gap: int = 4) -> np.ndarray:
    """uint8 (n, 3, S, S) -> one uint8 (H, W, 3) picture, each image scaled up by round(224 / S)."""
    n, _, size, _ = images.shape
    zoom = max(1, round(CANVAS / size))
    tiles = images.transpose(0, 2, 3, 1).repeat(zoom, axis=1).repeat(zoom, axis=2)
    side = size * zoom
    rows = -(-n // columns)
    out = np.full((rows * (side + gap) + gap, columns * (side + gap) + gap, 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        out[
            gap + r * (side + gap) : (r + 1) * (side + gap), gap + c * (side + gap) : (c + 1) * (side + gap)
        ] = tile
    return out


def main(sizes: list[int]) -> None:
    import matplotlib.image

    white = len(["white"]) * [9]
    for size in sizes:
        shapes = render(np.arange(10), np.zeros(10, int), white * 10, size, nuisance=centred(10))
        textures = render(np.ones(10, int), np.arange(10), white * 10, size, nuisance=centred(10))
        for name, images in (("shapes", shapes), ("textures", textures)):
            path = HERE / f"trifeature_{name}_{size}px.png"
            matplotlib.image.imsave(path, grid(images))
            print(path)
    print("shapes:", ", ".join(SHAPES), "| textures:", ", ".join(TEXTURES))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [224, 64, 48])
