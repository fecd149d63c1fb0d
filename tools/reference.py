#!/usr/bin/env python3
"""Regenerates tests/fixtures/reference_pixmix.json: whole PixMix samples computed the way
the released code computes them (Pillow operators, torchvision transforms, float32 tensor
arithmetic; numpy stands in for torch), for explicit plans in this crate's plan layout.
tests/reference.rs runs the CPU executor on the same plans and compares.

    python3 tools/reference.py      # requires Pillow and numpy
"""
import base64
import json
import pathlib
import random

import numpy as np
import PIL
from PIL import Image

from golden import OPS, SIGNED, apply, make_image, param_from_level, KINDS

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "reference_pixmix.json"
F = np.float32


def tensorize(img):
    return np.asarray(img, dtype=F).transpose(2, 0, 1) / F(255)


def add(x, y, a, b):
    x, y = x * 2 - 1, y * 2 - 1
    out = a * x + b * y
    return (out + 1) / 2


def multiply(x, y, a, b):
    x, y = x * 2, y * 2
    out = (x ** a) * (np.maximum(y, F(1e-37)) ** b)
    return out / 2


def train_image(cfg, s, img):
    size = cfg["size"]
    if s["transform"] == 0:
        if s["flip"]:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        pad = cfg["padding"]
        padded = Image.new("RGB", (img.width + 2 * pad, img.height + 2 * pad))
        padded.paste(img, (pad, pad))
        x, y = s["crop_x"] + pad, s["crop_y"] + pad
        return padded.crop((x, y, x + size, y + size))
    x, y, w, h = s["crop_x"], s["crop_y"], s["crop_w"], s["crop_h"]
    out = img.crop((x, y, x + w, y + h)).resize((size, size), Image.BILINEAR)
    return out.transpose(Image.FLIP_LEFT_RIGHT) if s["flip"] else out


def resize_shorter(img, shorter):
    w, h = img.size
    short, long = min(w, h), max(w, h)
    new_long = int(shorter * long / short)
    size = (shorter, new_long) if w <= h else (new_long, shorter)
    return img.resize(size, Image.BILINEAR)


def augmented(op, orig):
    if op["op"] is None:
        return orig
    return apply(OPS[op["op"]], op["param"], orig)


def pixmix(cfg, s, rounds, img, mixing):
    size = cfg["size"]
    orig = train_image(cfg, s, img)
    pic = mixing[s["mixing_index"]]
    mx, my = s["mixing_x"], s["mixing_y"]
    mix_pic = pic.crop((mx, my, mx + size, my + size))
    mixed = tensorize(augmented(s["base"], orig))
    for r in rounds:
        other = tensorize(augmented(r["aug"], orig)) if r["source"] == 0 else tensorize(mix_pic)
        op = add if r["mix"] == 0 else multiply
        mixed = np.clip(op(mixed, other, F(r["a"]), F(r["b"])), 0, 1)
    mean = np.array(cfg["mean"], F)[:, None, None]
    std = np.array(cfg["std"], F)[:, None, None]
    return (mixed - mean) / std


def random_op(rng, size, severity):
    i = rng.randrange(len(OPS))
    level = rng.uniform(0.1, severity)
    param = param_from_level(OPS[i], level, size, size)
    if OPS[i] in SIGNED and rng.random() < 0.5:
        param = -param
    return {"op": i, "param": float(param)}


def get_ab(rng, beta):
    if rng.random() < 0.5:
        return float(F(rng.betavariate(beta, 1))), float(F(rng.betavariate(1, beta)))
    return float(F(1) + F(rng.betavariate(1, beta))), float(-F(rng.betavariate(1, beta)))


def suite(name, cfg, n, rng):
    size = cfg["size"]
    mixing_src = [dict(kind=rng.choice(KINDS), seed=rng.getrandbits(63), w=w, h=h)
                  for w, h in [(50, 40), (37, 61), (64, 64)]]
    mixing = [resize_shorter(make_image(m["kind"], m["seed"], m["w"], m["h"]), cfg["mixing_resize"])
              for m in mixing_src]
    samples, outputs = [], []
    for i in range(n):
        w, h = rng.choice([(size, size), (size + 9, size + 3), (61, 47)])
        image = dict(kind=rng.choice(["smooth", "noise", "levels", "mixed"]), seed=rng.getrandbits(63), w=w, h=h)
        s = {"flip": rng.random() < 0.5}
        if cfg["padding"] is not None:
            pad = cfg["padding"]
            s.update(transform=0, crop_x=rng.randint(-pad, w + pad - size),
                     crop_y=rng.randint(-pad, h + pad - size), crop_w=size, crop_h=size)
        else:
            cw, ch = rng.randint(1, w), rng.randint(1, h)
            s.update(transform=1, crop_x=rng.randint(0, w - cw), crop_y=rng.randint(0, h - ch),
                     crop_w=cw, crop_h=ch)
        m = rng.randrange(len(mixing))
        s.update(mixing_index=m, mixing_x=rng.randint(0, mixing[m].width - size),
                 mixing_y=rng.randint(0, mixing[m].height - size))
        # The first samples take every operator as their base; then as the released code.
        if i < len(OPS):
            level = 0.1 + 0.37 * (i % 5 + 1)
            s["base"] = {"op": i, "param": float(param_from_level(OPS[i], level, size, size))}
        elif rng.random() < 0.5:
            s["base"] = random_op(rng, size, cfg["severity"])
        else:
            s["base"] = {"op": None, "param": 0.0}
        rounds = []
        for _ in range(rng.randint(0, cfg["k"]) if i >= 4 else i + 1):
            src = 0 if rng.random() < 0.5 else 1
            a, b = get_ab(rng, cfg["beta"])
            rounds.append(dict(source=src, aug=random_op(rng, size, cfg["severity"]) if src == 0 else {"op": None, "param": 0.0},
                               mix=rng.randrange(2), a=a, b=b))
        out = pixmix(cfg, s, rounds, make_image(image["kind"], image["seed"], w, h), mixing)
        samples.append(dict(image=image, plan=s, rounds=rounds))
        outputs.append(base64.b64encode(out.astype("<f4").tobytes()).decode())
    return dict(name=name, config=cfg, mixing=mixing_src, samples=samples, outputs=outputs)


def main():
    rng = random.Random(11)
    cifar = dict(size=32, padding=4, mixing_resize=36, k=4, beta=3.0, severity=3,
                 mean=[0.5] * 3, std=[0.5] * 3)
    imagenet_like = dict(size=40, padding=None, mixing_resize=45, k=4, beta=4.0, severity=10,
                         mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    data = {"pillow": PIL.__version__, "numpy": np.__version__,
            "suites": [suite("cifar", cifar, 40, rng), suite("resized-crop", imagenet_like, 24, rng)]}
    OUT.write_text(json.dumps(data))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
