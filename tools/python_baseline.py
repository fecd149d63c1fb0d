#!/usr/bin/env python3
"""Times the released PixMix per-sample loop on one core: Pillow operators, torchvision-style
transforms and float32 tensor arithmetic (numpy stands in for torch, which this machine's
registries only offer with gigabytes of CUDA dependencies). Same inputs as `pixmix bench`:
500x375 photos for imagenet, 32x32 for cifar, 16 mixing pictures.

    python3 tools/python_baseline.py [--seconds 10]     # requires Pillow and numpy
"""
import argparse
import math
import random
import time

import numpy as np
from PIL import Image

from golden import OPS, SIGNED, apply, param_from_level
from reference import add, multiply, resize_shorter, tensorize

F = np.float32
PRESETS = {
    "cifar": dict(size=32, src=(32, 32), k=4, beta=3.0, severity=3, mixing_resize=36,
                  mean=[0.5] * 3, std=[0.5] * 3),
    "imagenet": dict(size=224, src=(500, 375), k=4, beta=4.0, severity=1, mixing_resize=256,
                     mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
}


def photo(seed, w, h):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * (c + 1) + y * (3 - c)) // 3 + seed * 37 for c in range(3)], -1)
    return Image.fromarray(((base + rng.integers(0, 32, base.shape)) % 256).astype(np.uint8), "RGB")


def augment(img, size, severity):
    op = OPS[random.randrange(len(OPS))]
    level = random.uniform(0.1, severity)
    param = param_from_level(op, level, size, size)
    if op in SIGNED and random.random() > 0.5:
        param = -param
    return apply(op, param, img)


def get_ab(beta):
    if random.random() < 0.5:
        return F(np.random.beta(beta, 1)), F(np.random.beta(1, beta))
    return F(1) + F(np.random.beta(1, beta)), -F(np.random.beta(1, beta))


def train_transform(name, img, size):
    if name == "cifar":
        if random.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        padded = Image.new("RGB", (img.width + 8, img.height + 8))
        padded.paste(img, (4, 4))
        x, y = random.randint(0, padded.width - size), random.randint(0, padded.height - size)
        return padded.crop((x, y, x + size, y + size))
    w, h = img.size
    area = w * h
    for _ in range(10):
        target = area * random.uniform(0.08, 1.0)
        ratio = math.exp(random.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = random.randint(0, w - cw), random.randint(0, h - ch)
            break
    else:
        cw, ch, x, y = w, h, 0, 0
    out = img.crop((x, y, x + cw, y + ch)).resize((size, size), Image.BILINEAR)
    return out.transpose(Image.FLIP_LEFT_RIGHT) if random.random() < 0.5 else out


def sample(name, cfg, img, mixing):
    size = cfg["size"]
    orig = train_transform(name, img, size)
    pic = mixing[random.randrange(len(mixing))]
    mx, my = random.randint(0, pic.width - size), random.randint(0, pic.height - size)
    mix_pic = pic.crop((mx, my, mx + size, my + size))
    mixed = tensorize(augment(orig, size, cfg["severity"]) if random.random() < 0.5 else orig)
    for _ in range(random.randint(0, cfg["k"])):
        other = tensorize(augment(orig, size, cfg["severity"])) if random.random() < 0.5 else tensorize(mix_pic)
        op = add if random.random() < 0.5 else multiply
        a, b = get_ab(cfg["beta"])
        mixed = np.clip(op(mixed, other, a, b), 0, 1)
    mean = np.array(cfg["mean"], F)[:, None, None]
    std = np.array(cfg["std"], F)[:, None, None]
    return (mixed - mean) / std


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    random.seed(0)
    np.random.seed(0)
    for name, cfg in PRESETS.items():
        photos = [photo(i, *cfg["src"]) for i in range(16)]
        mixing = [resize_shorter(photo(1000 + i, 300 + 7 * i, 260), cfg["mixing_resize"]) for i in range(16)]
        n, start = 0, time.perf_counter()
        while n < 10 or time.perf_counter() - start < args.seconds:
            sample(name, cfg, photos[n % len(photos)], mixing)
            n += 1
        rate = n / (time.perf_counter() - start)
        print(f"python {name}: {rate:.0f} images/s on one core (released per-sample loop, numpy for torch)")


if __name__ == "__main__":
    main()
