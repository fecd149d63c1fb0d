#!/usr/bin/env python3
"""Writes assets/mixing/: twelve small procedural colour fractals (escape-time Julia and
Mandelbrot sets with random palettes), a stand-in mixing set for the demo and tests that
needs no download. Deterministic; requires numpy and Pillow.

    python3 tools/mixing_assets.py
"""
import colorsys
import pathlib

import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parent.parent / "assets" / "mixing"
SIZE = 256


def palette(rng):
    keys = []
    h = rng.random()
    for _ in range(rng.integers(3, 7)):
        h = (h + rng.uniform(-0.25, 0.25) + (0.5 if rng.random() < 0.25 else 0)) % 1.0
        keys.append(colorsys.hsv_to_rgb(h, rng.uniform(0.5, 1), rng.uniform(0.6, 1)))
    keys = np.array(keys)
    t = np.linspace(0, len(keys) - 1, 256)
    i = np.minimum(t.astype(int), len(keys) - 2)
    f = (t - i)[:, None]
    return keys[i] * (1 - f) + keys[i + 1] * f


def fractal(rng):
    span = rng.uniform(0.6, 1.6)
    cx, cy = rng.uniform(-0.5, 0.5, 2)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    z = (cx + (xs - 0.5) * 2 * span) + 1j * (cy + (ys - 0.5) * 2 * span)
    julia = rng.random() < 0.75
    c = complex(*rng.choice([(-0.8, 0.156), (0.285, 0.01), (-0.4, 0.6), (-0.70176, -0.3842),
                             (0.355, 0.355), (-0.835, -0.2321)])) + complex(*rng.normal(0, 0.01, 2))
    if not julia:
        c, z = z, np.zeros_like(z)
    n = np.zeros(z.shape)
    alive = np.ones(z.shape, bool)
    for i in range(160):
        z[alive] = z[alive] ** 2 + (c if julia else c[alive])
        escaped = alive & (np.abs(z) > 4)
        n[escaped] = i + 1 - np.log2(np.log2(np.abs(z[escaped])))
        alive &= ~escaped
    v = np.clip(np.where(alive, 0, n), 0, None)
    v = (v / max(v.max(), 1e-9)) ** rng.uniform(0.4, 0.8)
    rgb = palette(rng)[(v * 255).astype(int)] * (v[..., None] > 0)
    return Image.fromarray((rgb * 255).astype(np.uint8), "RGB")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2022)
    for k in range(12):
        fractal(rng).save(OUT / f"fractal-{k:02d}.jpg", quality=92)
    print(f"wrote 12 pictures to {OUT}")


if __name__ == "__main__":
    main()
