#!/usr/bin/env python3
"""Regenerates the golden fixtures of the base operators with Pillow.

Each case names an operator, an explicit parameter and a synthetic input image; the image is
rebuilt from (kind, seed, width, height) by the same generator in tests/golden.rs, so the
fixture stays small: it records Pillow's output as a CRC-32 and a byte sum. Random cases also
record the severity level the parameter came from, so the Rust parameter formulas are
checked against the released code's.

    python3 tools/golden.py                      # writes tests/fixtures/golden_ops.jsonl
    python3 tools/golden.py --dump N out.png     # writes case N's input and Pillow output

Requires Pillow and numpy.
"""
import argparse
import json
import math
import pathlib
import random
import sys
import zlib

import numpy as np
import PIL
from PIL import Image, ImageEnhance, ImageOps

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "golden_ops.jsonl"
OUT_RESIZE = ROOT / "tests" / "fixtures" / "golden_resize.jsonl"
M64 = (1 << 64) - 1
KINDS = ["noise", "smooth", "levels", "flat", "mixed"]


def hash64(seed, idx):
    """splitmix64 finaliser of seed + (idx + 1) * golden ratio, vectorised over idx."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (idx.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def make_image(kind, seed, w, h):
    """The synthetic test image; tests/golden.rs has the same generator."""
    i = np.arange(w * h * 3, dtype=np.uint64)
    r = hash64(seed, i)
    p = i // np.uint64(3)
    c = i % np.uint64(3)
    x = p % np.uint64(w)
    y = p // np.uint64(w)
    params = hash64(seed ^ 0x5DEECE66D, np.arange(8, dtype=np.uint64))
    if kind == "noise":
        v = r & np.uint64(255)
    elif kind == "smooth":
        sx = params[0] % np.uint64(7) + np.uint64(1)
        sy = params[1] % np.uint64(7) + np.uint64(1)
        v = (x * sx + y * sy + c * np.uint64(50) + r % np.uint64(17)) & np.uint64(255)
    elif kind == "levels":
        # Channel c takes 1, 2 or 3 distinct values.
        counts = params[0:3] % np.uint64(3) + np.uint64(1)
        choice = r % counts[c]
        v = hash64(seed + 7, c * np.uint64(3) + choice) & np.uint64(255)
    elif kind == "flat":
        v = params[c] & np.uint64(255)
    elif kind == "mixed":
        two = np.where(r & np.uint64(1), params[1], params[2]) & np.uint64(255)
        v = np.where(c == 0, params[0] & np.uint64(255), np.where(c == 1, two, r & np.uint64(255)))
    else:
        raise ValueError(kind)
    return Image.fromarray(v.astype(np.uint8).reshape(h, w, 3), "RGB")


def apply(op, param, img):
    """The Pillow call each operator must equal (as the released augmentations.py does)."""
    size = img.size
    bil = Image.BILINEAR
    if op == "autocontrast":
        return ImageOps.autocontrast(img)
    if op == "equalize":
        return ImageOps.equalize(img)
    if op == "posterize":
        bits = int(param)
        if bits == 0:
            # Recent Pillow rejects 0 bits, which the released code reaches above severity
            # 7.5; earlier Pillow applied the same mask rule, which keeps no bit.
            return img.point([i & ~255 for i in range(256)] * 3)
        return ImageOps.posterize(img, bits)
    if op == "rotate":
        return img.rotate(param, resample=bil)
    if op == "solarize":
        return ImageOps.solarize(img, int(param))
    if op == "shear_x":
        return img.transform(size, Image.AFFINE, (1, param, 0, 0, 1, 0), resample=bil)
    if op == "shear_y":
        return img.transform(size, Image.AFFINE, (1, 0, 0, param, 1, 0), resample=bil)
    if op == "translate_x":
        return img.transform(size, Image.AFFINE, (1, 0, param, 0, 1, 0), resample=bil)
    if op == "translate_y":
        return img.transform(size, Image.AFFINE, (1, 0, 0, 0, 1, param), resample=bil)
    enhancer = {
        "color": ImageEnhance.Color,
        "contrast": ImageEnhance.Contrast,
        "brightness": ImageEnhance.Brightness,
        "sharpness": ImageEnhance.Sharpness,
    }[op]
    return enhancer(img).enhance(param)


def int_param(level, maxval):
    return int(level * maxval / 10)


def float_param(level, maxval):
    return float(level) * maxval / 10.0


def param_from_level(op, level, w, h):
    """The released code's severity-to-parameter rule, before the random sign."""
    return {
        "autocontrast": 0,
        "equalize": 0,
        "posterize": 4 - int_param(level, 4),
        "rotate": int_param(level, 30),
        "solarize": 256 - int_param(level, 256),
        "shear_x": float_param(level, 0.3),
        "shear_y": float_param(level, 0.3),
        "translate_x": int_param(level, w / 3),
        "translate_y": int_param(level, h / 3),
    }.get(op, float_param(level, 1.8) + 0.1 if op in ("color", "contrast", "brightness", "sharpness") else None)


SIGNED = {"rotate", "shear_x", "shear_y", "translate_x", "translate_y"}
OPS = ["autocontrast", "equalize", "posterize", "rotate", "solarize", "shear_x", "shear_y",
       "translate_x", "translate_y", "color", "contrast", "brightness", "sharpness"]
SIZES = [(32, 32), (32, 32), (32, 32), (31, 17), (31, 17), (17, 31), (64, 48), (5, 3),
         (224, 224), (300, 173)]
EDGE_SIZES = [(1, 1), (2, 5), (3, 3), (4, 1)]


def edge_params(op):
    return {
        "posterize": list(range(9)),
        "solarize": [0, 1, 127, 128, 255, 256],
        "rotate": [0.0, -0.0, 90.0, 180.0, 270.0, -90.0, 360.0, 45.5, -30.0, 1e-3],
        "shear_x": [0.0, 1.0, -1.0, 0.03, 2.5],
        "shear_y": [0.0, 1.0, -1.0, 0.03, 2.5],
        "translate_x": [0.0, 0.5, -2.5, 31.0, -31.0, 400.0],
        "translate_y": [0.0, 0.5, -2.5, 31.0, -31.0, 400.0],
    }.get(op, [0.0, 0.1, 0.5, 1.0, 1.9, 2.5, -0.5] if op in ("color", "contrast", "brightness", "sharpness") else [0])


def cases():
    rng = random.Random(20261128)
    for op in OPS:
        # Random cases as the planner draws them, at severities 1 to 10.
        for _ in range(200):
            w, h = rng.choice(SIZES)
            severity = rng.randint(1, 10)
            level = rng.uniform(0.1, severity)
            param = param_from_level(op, level, w, h)
            sign = op in SIGNED and rng.random() > 0.5
            if sign:
                param = -param
            yield dict(op=op, param=param, level=level, negated=sign, w=w, h=h,
                       kind=rng.choice(KINDS), seed=rng.getrandbits(63))
        # Edge cases: special parameters on every kind of image, and tiny images.
        for param in edge_params(op):
            for kind in KINDS:
                w, h = rng.choice([(32, 32), (31, 17)])
                yield dict(op=op, param=param, w=w, h=h, kind=kind, seed=rng.getrandbits(63))
            w, h = rng.choice(EDGE_SIZES)
            yield dict(op=op, param=param, w=w, h=h, kind=rng.choice(KINDS), seed=rng.getrandbits(63))


def resize_cases():
    """crop(box).resize(size, BILINEAR): RandomResizedCrop's and Resize's pixel rule."""
    rng = random.Random(7)
    sources = [(500, 375), (375, 500), (640, 480), (300, 173), (64, 48), (37, 41), (7, 5)]
    for n in range(240):
        w, h = rng.choice(sources)
        if n % 3 == 0:
            # torchvision Resize(shorter side) of the whole image, as the mixing set uses.
            shorter = rng.choice([36, 256, 32, 224, 5])
            short, long = min(w, h), max(w, h)
            new_long = int(shorter * long / short)
            ow, oh = (shorter, new_long) if w <= h else (new_long, shorter)
            box = (0, 0, w, h)
        else:
            cw, ch = rng.randint(1, w), rng.randint(1, h)
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            box = (x, y, cw, ch)
            ow, oh = rng.choice([(224, 224), (32, 32), (cw, ch), (cw, 224), (13, 7)])
        yield dict(kind=rng.choice(KINDS), seed=rng.getrandbits(63), w=w, h=h, box=box, out=(ow, oh))


def run_resize(case):
    img = make_image(case["kind"], case["seed"], case["w"], case["h"])
    x, y, cw, ch = case["box"]
    return img.crop((x, y, x + cw, y + ch)).resize(tuple(case["out"]), Image.BILINEAR)


def run_case(case):
    img = make_image(case["kind"], case["seed"], case["w"], case["h"])
    out = apply(case["op"], case["param"], img)
    assert out.mode == "RGB" and out.size == img.size
    return img, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", nargs=2, metavar=("CASE", "OUT_PNG"))
    args = ap.parse_args()
    all_cases = list(cases())
    if args.dump:
        n, path = int(args.dump[0]), args.dump[1]
        img, out = run_case(all_cases[n])
        img.save(path.replace(".png", "-input.png"))
        out.save(path)
        print(json.dumps(all_cases[n]))
        return
    with open(OUT, "w") as f:
        f.write(json.dumps({"pillow": PIL.__version__, "numpy": np.__version__,
                            "python": sys.version.split()[0], "cases": len(all_cases)}) + "\n")
        for case in all_cases:
            _, out = run_case(case)
            data = out.tobytes()
            case["crc32"] = zlib.crc32(data)
            case["sum"] = int(np.frombuffer(data, np.uint8).sum(dtype=np.uint64))
            f.write(json.dumps(case) + "\n")
    with open(OUT_RESIZE, "w") as f:
        f.write(json.dumps({"pillow": PIL.__version__}) + "\n")
        for case in resize_cases():
            data = run_resize(case).tobytes()
            case["crc32"] = zlib.crc32(data)
            case["sum"] = int(np.frombuffer(data, np.uint8).sum(dtype=np.uint64))
            f.write(json.dumps(case) + "\n")
    print(f"wrote {len(all_cases)} cases to {OUT.relative_to(ROOT)} (Pillow {PIL.__version__})")


if __name__ == "__main__":
    main()
