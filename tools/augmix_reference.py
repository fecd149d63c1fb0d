#!/usr/bin/env python3
"""Regenerates tests/fixtures/reference_augmix.json: whole AugMix samples computed the way the
released code (google-research/augmix, `aug` of cifar.py / imagenet.py) computes them:
numpy's dirichlet and beta cast to float32, chains of Pillow operators each applied to the
previous one's 8-bit result, ToTensor + Normalize and the float32 mixture in the released
order (numpy stands in for torch). Every draw is recorded as a plan in this crate's layout;
tests/augmix_reference.rs runs the CPU executor on the same plans and compares.

    python3 tools/augmix_reference.py      # requires Pillow and numpy
"""
import base64
import json
import pathlib
import random

import numpy as np
import PIL

from golden import OPS, SIGNED, apply, make_image, param_from_level
from reference import train_image

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "reference_augmix.json"
F = np.float32
DEFAULT_OPS = 9  # augmentations.augmentations: the first nine of OPS


def preprocess(cfg, img):
    """ToTensor then Normalize, float32."""
    x = np.asarray(img, dtype=F).transpose(2, 0, 1) / F(255)
    mean = np.array(cfg["mean"], F)[:, None, None]
    std = np.array(cfg["std"], F)[:, None, None]
    return (x - mean) / std


def aug(cfg, image, nprng):
    """The released `aug`, recording its draws (the plan)."""
    n_ops = len(OPS) if cfg["all_ops"] else DEFAULT_OPS
    size = cfg["size"]
    ws = np.float32(nprng.dirichlet([cfg["alpha"]] * cfg["width"]))
    m = np.float32(nprng.beta(cfg["alpha"], cfg["alpha"]))
    mix = np.zeros_like(preprocess(cfg, image))
    chains = []
    for i in range(cfg["width"]):
        image_aug = image.copy()
        depth = cfg["depth"] if cfg["depth"] > 0 else nprng.randint(1, 4)
        chain = []
        for _ in range(depth):
            op = nprng.randint(n_ops)
            level = nprng.uniform(low=0.1, high=cfg["severity"])
            param = param_from_level(OPS[op], level, size, size)
            if OPS[op] in SIGNED and nprng.uniform() > 0.5:
                param = -param
            chain.append({"op": int(op), "param": float(param)})
            image_aug = apply(OPS[op], param, image_aug)
        chains.append(chain)
        mix += ws[i] * preprocess(cfg, image_aug)
    mixed = (1 - m) * preprocess(cfg, image) + m * mix
    assert mixed.dtype == F
    plan = {"weights": [float(w) for w in ws], "m": float(m), "chains": chains}
    return plan, mixed


def suite(name, cfg, n, rng, nprng):
    size = cfg["size"]
    samples, outputs = [], []
    for i in range(n):
        w, h = rng.choice([(size, size), (size + 9, size + 3), (61, 47)])
        image = dict(kind=rng.choice(["smooth", "noise", "levels", "mixed"]),
                     seed=rng.getrandbits(63), w=w, h=h)
        s = {"flip": rng.random() < 0.5}
        if cfg["padding"] is not None:
            pad = cfg["padding"]
            s.update(transform=0, crop_x=rng.randint(-pad, w + pad - size),
                     crop_y=rng.randint(-pad, h + pad - size), crop_w=size, crop_h=size)
        else:
            cw, ch = rng.randint(1, w), rng.randint(1, h)
            s.update(transform=1, crop_x=rng.randint(0, w - cw), crop_y=rng.randint(0, h - ch),
                     crop_w=cw, crop_h=ch)
        orig = train_image(cfg, s, make_image(image["kind"], image["seed"], w, h))
        # Widths and depths beyond the defaults on some samples.
        c = dict(cfg)
        if i % 4 == 3:
            c.update(width=rng.randint(1, 8), depth=rng.choice([-1, 1, 2, 3]))
        plan, out = aug(c, orig, nprng)
        plan.update(s)
        samples.append(dict(image=image, plan=plan))
        outputs.append(base64.b64encode(out.astype("<f4").tobytes()).decode())
    return dict(name=name, config=cfg, samples=samples, outputs=outputs)


def main():
    rng = random.Random(18)
    nprng = np.random.RandomState(18)
    cifar = dict(size=32, padding=4, severity=3, all_ops=False, width=3, depth=-1, alpha=1.0,
                 mean=[0.5] * 3, std=[0.5] * 3)
    cifar_all = dict(cifar, all_ops=True, severity=10, alpha=0.5)
    imagenet_like = dict(size=40, padding=None, severity=1, all_ops=True, width=3, depth=-1,
                         alpha=1.0, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    data = {"pillow": PIL.__version__, "numpy": np.__version__,
            "suites": [suite("cifar", cifar, 24, rng, nprng),
                       suite("cifar-all-ops-severity-10", cifar_all, 16, rng, nprng),
                       suite("resized-crop", imagenet_like, 12, rng, nprng)]}
    OUT.write_text(json.dumps(data))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
