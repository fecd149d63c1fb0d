"""pixmix.AugMix and pixmix.AugMixTransform: shapes and dtypes, seeds, batch-size
independence, the JSD views, equality with the Rust CLI, pickling, workers and errors.
numpy only, except the torch tests (skipped without torch)."""
import multiprocessing as mp
import os
import pathlib
import pickle
import struct
import subprocess
import zlib

import numpy as np
import pytest

import pixmix


def batch(n=4, h=32, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def images(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]


def test_batches_are_normalized_nchw_and_reproducible():
    x = batch(6)
    out = pixmix.AugMix(preset="cifar", seed=3)(x)
    assert out.shape == (6, 3, 32, 32) and out.dtype == np.float32
    # The cifar preset normalizes with mean and std 0.5: values in [-1, 1].
    assert np.isfinite(out).all() and -1.0 <= out.min() and out.max() <= 1.0
    aug = pixmix.AugMix(preset="cifar", seed=3)
    assert np.array_equal(aug(x), out)
    assert not np.array_equal(aug(x), out), "the next batch draws new plans"
    assert aug.position == 12
    assert not np.array_equal(pixmix.AugMix(preset="cifar", seed=4)(x), out)
    half = pixmix.AugMix(preset="cifar", seed=3)(x, dtype="f16")
    assert half.dtype == np.float16 and np.array_equal(half, out.astype(np.float16))


def test_imagenet_crops_lists_of_any_sizes():
    photos = images([(300, 173), (256, 256), (231, 260)], seed=4)
    aug = pixmix.AugMix(preset="imagenet", seed=8)
    out = aug(photos)
    assert out.shape == (3, 3, 224, 224) and out.dtype == np.float32
    assert np.array_equal(out, pixmix.AugMix(preset="imagenet", seed=8)(photos))
    assert aug.mean == pytest.approx((0.485, 0.456, 0.406))
    assert aug.std == pytest.approx((0.229, 0.224, 0.225))
    small = pixmix.AugMix(preset="imagenet", seed=8, size=64)(batch(2, 80, 90))
    assert small.shape == (2, 3, 64, 64)


def test_sample_n_is_the_same_however_batched():
    x = batch(8)
    whole = pixmix.AugMix(preset="cifar", seed=5)(x)
    aug = pixmix.AugMix(preset="cifar", seed=5)
    parts = [aug(x[:3]), aug(x[3:4]), aug(list(x[4:]))]
    assert np.array_equal(np.concatenate(parts), whole)
    # The number of threads does not matter either.
    assert np.array_equal(pixmix.AugMix(preset="cifar", seed=5, threads=1)(x), whole)
    assert np.array_equal(pixmix.AugMix(preset="cifar", seed=5, threads=2)(x), whole)
    # Nor does it for the JSD views.
    views = pixmix.AugMix(preset="cifar", seed=5, jsd=True)(x).reshape(3, 8, 3, 32, 32)
    aug = pixmix.AugMix(preset="cifar", seed=5, jsd=True)
    a, b = aug(x[:5]).reshape(3, 5, 3, 32, 32), aug(x[5:]).reshape(3, 3, 3, 32, 32)
    assert np.array_equal(np.concatenate([a, b], axis=1), views)


def test_a_run_resumes_from_its_position():
    x = batch()
    a = pixmix.AugMix(preset="cifar", seed=2)
    a(x)
    assert a.position == 4 and "position=4" in repr(a)
    want = a(x)
    b = pixmix.AugMix(preset="cifar", seed=2)
    b.position = 4
    assert np.array_equal(b(x), want)


def test_jsd_views_are_clean_aug1_aug2():
    x = batch(5)
    aug = pixmix.AugMix(preset="cifar", seed=7, jsd=True, padding=0)
    assert aug.jsd and "jsd=True" in repr(aug)
    out = aug(x)
    assert out.shape == (15, 3, 32, 32) and aug.position == 5, "one sample per image"
    clean, aug1, aug2 = np.split(out, 3)
    # With no padding the cifar train transform of a 32x32 image is a random flip, so the
    # clean view is the preprocessed image, mirrored or not.
    pre = ((x.astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.5))
    pre = pre.transpose(0, 3, 1, 2)
    for i in range(5):
        assert np.array_equal(clean[i], pre[i]) or np.array_equal(clean[i], pre[i][:, :, ::-1])
    # The aug1 block is what jsd=False gives for the same stream; aug2 is another draw.
    plain = pixmix.AugMix(preset="cifar", seed=7, padding=0)(x)
    assert np.array_equal(aug1, plain)
    for i in range(5):
        assert not np.array_equal(aug1[i], aug2[i])
        assert not np.array_equal(aug1[i], clean[i])
    # normalize=False: the clean view is the image in [0, 1].
    raw = pixmix.AugMix(preset="cifar", seed=7, jsd=True, padding=0, normalize=False)(x)
    assert np.allclose(raw[:5], clean * 0.5 + 0.5, atol=1e-6)
    assert raw.min() >= 0 and raw.max() <= 1


def test_layouts_and_channel_first_input():
    x = batch()
    want = pixmix.AugMix(preset="cifar", seed=2)(x)
    nhwc = pixmix.AugMix(preset="cifar", seed=2, layout="NHWC")(x)
    assert nhwc.shape == (4, 32, 32, 3) and np.array_equal(nhwc, want.transpose(0, 2, 3, 1))
    chw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    assert np.array_equal(pixmix.AugMix(preset="cifar", seed=2)(chw), want)
    assert np.array_equal(pixmix.AugMix(preset="cifar", seed=2)([i.transpose(2, 0, 1) for i in x]),
                          want)
    assert np.array_equal(pixmix.AugMix(preset="cifar", seed=2)(x[0]), want[:1])


def test_every_setting_is_used():
    x = batch()
    base = pixmix.AugMix(preset="cifar", seed=1)(x)
    for kw in [dict(width=1), dict(width=8), dict(depth=1), dict(depth=3), dict(alpha=0.5),
               dict(severity=10), dict(all_ops=True), dict(mean=0.4), dict(std=[0.2, 0.3, 0.4]),
               dict(scale=(0.5, 1.0)), dict(padding=0)]:
        out = pixmix.AugMix(preset="cifar", seed=1, **kw)(x)
        assert out.shape == base.shape and not np.array_equal(out, base), kw
    assert pixmix.AugMix(preset="cifar", size=24, padding=0)(x).shape == (4, 3, 24, 24)
    # The defaults are the released code's.
    assert pixmix.AugMix(preset="cifar")._aug.settings() == dict(
        width=3, depth=-1, alpha=1.0, severity=3, all_ops=False)
    assert pixmix.AugMix(preset="imagenet")._aug.settings()["severity"] == 1
    assert np.array_equal(pixmix.AugMix(preset="cifar", seed=1, severity=3, width=3, depth=-1,
                                        alpha=1.0, all_ops=False)(x), base)


@pytest.mark.parametrize("kw, error, match", [
    (dict(width=0), ValueError, "width must be in 1..=8, got 0"),
    (dict(width=9), ValueError, "width must be in 1..=8, got 9"),
    (dict(width=-1), ValueError, "width must be an integer in 1..=8, got -1"),
    (dict(depth=0), ValueError, r"depth must be -1 \(random in 1..=3\) or in 1..=3, got 0"),
    (dict(depth=4), ValueError, "depth must be .* got 4"),
    (dict(alpha=0), ValueError, r"alpha must be a finite number in \[0.001, 1000000\], got 0"),
    (dict(alpha=-1.5), ValueError, "alpha must be .* got -1.5"),
    (dict(alpha="x"), ValueError, "alpha must be a number > 0, got 'x'"),
    (dict(severity=11), ValueError, "severity must be in 1..=10, got 11"),
    (dict(preset="svhn"), ValueError, "unknown preset 'svhn'"),
    (dict(preset=None), ValueError, "preset must be 'cifar' or 'imagenet'"),
    (dict(device="tpu"), ValueError, "device must be 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
    (dict(jsd="yes"), ValueError, "jsd must be True or False"),
    (dict(threads=0), ValueError, "threads must be at least 1, got 0"),
    (dict(seed=-1), ValueError, r"seed must be an integer in \[0, 2\*\*64\)"),
    (dict(layout="CHW"), ValueError, "layout must be 'NCHW' or 'NHWC'"),
    (dict(normalize=False, std=0.5), ValueError, "normalize=False"),
    (dict(padding=2, ratio=(0.5, 2)), ValueError, "padding belongs to"),
    (dict(k=3), TypeError, "k"),
    (dict(mixing="folder"), TypeError, "mixing"),
])
def test_bad_arguments_are_clear_errors(kw, error, match):
    with pytest.raises(error, match=match):
        pixmix.AugMix(**kw)


def test_bad_input_is_a_clear_error_and_consumes_nothing():
    aug = pixmix.AugMix(preset="cifar", seed=0)
    with pytest.raises(TypeError, match="uint8"):
        aug(batch().astype(np.float32))
    with pytest.raises(ValueError, match="smaller than the 32x32 crop"):
        aug(batch(2, 16, 16))
    with pytest.raises(ValueError, match="image 1"):
        aug([batch(1)[0], batch(1)[0][:, :, :2].copy()])
    with pytest.raises(ValueError, match="at least one"):
        aug([])
    with pytest.raises(ValueError, match="numpy has no bfloat16"):
        aug(batch(), dtype="bf16")
    assert aug.position == 0
    assert np.array_equal(aug(batch()), pixmix.AugMix(preset="cifar", seed=0)(batch()))


def test_pickling_keeps_settings_seed_and_position():
    x = batch()
    a = pixmix.AugMix(preset="cifar", seed=7, width=2, severity=5, layout="NHWC", rank=1,
                      jsd=True)
    a(x)
    b = pickle.loads(pickle.dumps(a))
    assert b.position == a.position == 4 and b.layout == "NHWC" and b.jsd
    assert repr(b) == repr(a)
    assert np.array_equal(b(x), a(x))
    c = pixmix.AugMix(preset="cifar", seed=7, width=2, severity=5, layout="NHWC", rank=1,
                      jsd=True)
    c.position = 8
    assert np.array_equal(c(x), b(x))


def test_ranks_and_workers_draw_distinct_reproducible_streams():
    x = batch()
    outs = [pixmix.AugMix(seed=1, **kw)(x) for kw in
            (dict(), dict(rank=0), dict(rank=1), dict(worker=0), dict(worker=1))]
    for i in range(len(outs)):
        for j in range(i):
            assert not np.array_equal(outs[i], outs[j])
    assert np.array_equal(pixmix.AugMix(seed=1, worker=1)(x), outs[4])
    # A worker's stream is PixMix's: the worker id folded into the seed the same way.
    assert pixmix.AugMix(seed=1, worker=1)._rank_stream == pixmix.PixMix(
        seed=1, worker=1, fractals=1, progress=False)._rank_stream


def fork_child(aug, x, queue):
    queue.put((aug(x), aug.position))


def test_a_forked_child_of_a_process_that_used_it_does_not_hang():
    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork here")
    x = batch(8)
    aug = pixmix.AugMix(preset="cifar", seed=11)
    aug(x)  # the parent's thread pool is running
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=fork_child, args=(aug, x, queue))
    child.start()
    out, position = queue.get(timeout=120)
    child.join(timeout=120)
    assert child.exitcode == 0 and position == 16
    assert np.array_equal(out, aug(x))


def run_in_child(blob, x):
    aug = pickle.loads(blob)
    return aug(x), aug.position


def test_augmenters_travel_to_spawned_workers():
    x = batch()
    aug = pixmix.AugMix(preset="cifar", seed=9)
    aug(x)
    with mp.get_context("spawn").Pool(1) as pool:
        out, position = pool.apply(run_in_child, (pickle.dumps(aug), x))
    assert position == 8 and np.array_equal(out, aug(x))


def test_the_transform_augments_one_sample():
    photos = images([(40, 50), (33, 36)], seed=3)
    t = pixmix.AugMixTransform(preset="cifar", seed=4)
    samples = [t(photos[0]), t(photos[1].transpose(2, 0, 1))]
    assert samples[0].shape == (3, 32, 32) and samples[0].dtype == np.float32
    want = pixmix.AugMix(preset="cifar", seed=4)(photos)
    assert np.array_equal(np.stack(samples), want)
    assert t.sample(photos[0], dtype="f16").dtype == np.float16
    assert t.batch(batch()).shape == (4, 3, 32, 32)
    assert "pixmix.AugMixTransform(" in repr(t)
    assert pickle.loads(pickle.dumps(t)).position == t.position
    # With the JSD views: a tuple (clean, aug1, aug2), as the released AugMixDataset.
    j = pixmix.AugMixTransform(preset="cifar", seed=4, jsd=True)
    views = j(photos[0])
    assert isinstance(views, tuple) and len(views) == 3
    ref = pixmix.AugMix(preset="cifar", seed=4, jsd=True)(photos[:1])
    assert all(np.array_equal(v, r) for v, r in zip(views, ref))
    assert j.batch(batch()).shape == (12, 3, 32, 32)


def test_the_transform_takes_pil_images():
    Image = pytest.importorskip("PIL.Image")
    pixels = images([(36, 40)], seed=5)[0]
    t = pixmix.AugMixTransform(preset="cifar", seed=4)
    got = t(Image.fromarray(pixels).convert("RGBA"))
    assert np.array_equal(got, pixmix.AugMix(preset="cifar", seed=4)([pixels])[0])


class Foreign:
    """An array of some other framework: all pixmix may use is the DLPack protocol."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


def test_dlpack_producers_get_a_host_batch():
    x = batch()
    out = pixmix.AugMix(preset="cifar", seed=6, jsd=True)(Foreign(x), dtype="float16")
    assert isinstance(out, pixmix.Batch)
    assert out.shape == (12, 3, 32, 32) and out.dtype == "float16"
    assert out.__dlpack_device__() == (1, 0)
    want = pixmix.AugMix(preset="cifar", seed=6, jsd=True)(x, dtype=np.float16)
    assert np.array_equal(np.from_dlpack(out), want)
    assert pixmix.AugMix(preset="cifar").dlpack(x, "bf16").dtype == "bfloat16"


# --- the Rust command line -------------------------------------------------------------

def write_png(path, pixels):
    """An 8-bit RGB PNG of an H x W x 3 uint8 array (stdlib only)."""
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    pathlib.Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                                   + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def cli():
    """The `pixmix` binary named by PIXMIX_CLI (.ci/run sets it after the release build)."""
    path = os.environ.get("PIXMIX_CLI")
    if not path:
        pytest.skip("set PIXMIX_CLI to a built `pixmix` binary to compare with the CLI")
    return path


@pytest.mark.parametrize("preset, sizes, jsd", [
    ("cifar", [(32, 32), (40, 36), (32, 32), (35, 33), (32, 40)], False),
    ("cifar", [(32, 32), (40, 36), (33, 37)], True),
    ("imagenet", [(64, 48), (50, 90), (224, 224)], False),
    ("imagenet", [(70, 60), (80, 100)], True),
])
def test_equals_the_rust_cli(tmp_path, preset, sizes, jsd):
    binary = cli()
    photos = images(sizes, seed=len(sizes))
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, p in enumerate(photos):
        write_png(folder / f"{i:03}.png", p)
    out = tmp_path / "out"
    cmd = [binary, "augment", "--method", "augmix", "--images", str(folder), "--preset", preset,
           "--seed", "13", "--format", "npy", "--out", str(out), "--batch", "2", "--severity", "2",
           "--width", "4", "--threads", "1"] + (["--jsd"] if jsd else [])
    subprocess.run(cmd, check=True, capture_output=True)
    want = np.load(out / "augmented.npy")
    got = pixmix.AugMix(preset=preset, seed=13, severity=2, width=4, jsd=jsd)(photos)
    if jsd:
        # The CLI writes photo-major views (count x 3 views x ...); Python [clean; aug1; aug2].
        got = got.reshape(3, len(photos), *got.shape[1:]).transpose(1, 0, 2, 3, 4)
    assert want.shape == got.shape and np.array_equal(want, got)


# --- torch ------------------------------------------------------------------------------

def test_torch_tensors_come_back_as_torch_tensors():
    torch = pytest.importorskip("torch")
    x = batch()
    want = pixmix.AugMix(preset="cifar", seed=5, jsd=True)(x)
    out = pixmix.AugMix(preset="cifar", seed=5, jsd=True)(torch.from_numpy(x))
    assert isinstance(out, torch.Tensor) and out.shape == (12, 3, 32, 32)
    assert np.array_equal(out.numpy(), want)
    chw = torch.from_numpy(x).permute(0, 3, 1, 2)
    bf = pixmix.AugMix(preset="cifar", seed=5, jsd=True)(chw, dtype=torch.bfloat16)
    assert bf.dtype == torch.bfloat16 and torch.equal(bf, torch.from_numpy(want).to(torch.bfloat16))
    dst = torch.empty((12, 3, 32, 32))
    assert pixmix.AugMix(preset="cifar", seed=5, jsd=True)(torch.from_numpy(x), out=dst) is dst
    assert torch.equal(dst, torch.from_numpy(want))
    with pytest.raises(ValueError, match="contiguous"):
        pixmix.AugMix(preset="cifar", jsd=True)(torch.from_numpy(x), out=torch.empty((4, 3, 32, 32)))
    listed = pixmix.AugMix(preset="cifar", seed=5, jsd=True)([torch.from_numpy(i) for i in x])
    assert torch.equal(listed, torch.from_numpy(want))
    t = pixmix.AugMixTransform(preset="cifar", seed=5)(torch.from_numpy(x[0]))
    assert isinstance(t, torch.Tensor) and t.shape == (3, 32, 32)


class Photos:
    """A map-style dataset of uint8 images and labels, transformed per sample."""

    def __init__(self, pixels, transform):
        self.pixels, self.transform = pixels, transform

    def __len__(self):
        return len(self.pixels)

    def __getitem__(self, i):
        return self.transform(self.pixels[i]), i


def test_a_dataloader_with_two_workers():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    x = batch(16, 36, 40, seed=8)

    def run(jsd):
        data = Photos(x, pixmix.AugMixTransform(preset="cifar", seed=21, jsd=jsd))
        loader = DataLoader(data, batch_size=4, num_workers=2, shuffle=False)
        return list(loader)

    batches = run(False)
    assert [tuple(b.shape) for b, _ in batches] == [(4, 3, 32, 32)] * 4
    again = run(False)
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(batches, again)), "reproducible"
    # Batch i comes from worker i % 2, whose samples are its own stream's, in order.
    for worker in (0, 1):
        mine = [i for i in range(4) if i % 2 == worker]
        pictures = [p for i in mine for p in x[4 * i:4 * i + 4]]
        want = pixmix.AugMix(preset="cifar", seed=21, worker=worker)(pictures)
        got = torch.cat([batches[i][0] for i in mine]).numpy()
        assert np.array_equal(got, want), f"worker {worker}"
    # With the JSD views: a list (clean, aug1, aug2) of batches, which torch.cat stacks
    # as AugMix(jsd=True) does.
    views = run(True)
    clean, aug1, aug2 = views[0][0]
    assert clean.shape == aug1.shape == aug2.shape == (4, 3, 32, 32)
    want = pixmix.AugMix(preset="cifar", seed=21, worker=0, jsd=True)(list(x[:4]))
    assert np.array_equal(torch.cat([clean, aug1, aug2]).numpy(), want)
    assert torch.equal(aug1, batches[0][0]), "aug1 is the plain AugMix sample"
