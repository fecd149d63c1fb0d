"""The Python front: numpy batches always; torch CPU tensors when torch is installed; torch
CUDA tensors when a GPU is present (zero-copy into torch's memory, on torch's stream)."""
import pathlib

import numpy as np
import pytest

import pixmix

ROOT = pathlib.Path(__file__).resolve().parents[2]


def batch(n=8, h=32, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def test_numpy_batches_are_normalized_nchw_and_reproducible():
    a = pixmix.PixMix(preset="cifar", fractals=4, seed=3)
    b = pixmix.PixMix(preset="cifar", fractals=4, seed=3)
    x = batch()
    out = a(x)
    assert out.shape == (8, 3, 32, 32) and out.dtype == np.float32
    assert np.isfinite(out).all() and -1.0 <= out.min() and out.max() <= 1.0
    assert np.array_equal(out, b(x))
    assert not np.array_equal(a(x), out), "the next batch draws new plans"
    half = pixmix.PixMix(preset="cifar", fractals=4, seed=3)(x, dtype=np.float16)
    assert half.dtype == np.float16 and np.array_equal(half, out.astype(np.float16))


def test_ranks_draw_distinct_reproducible_streams():
    x = batch()
    r0 = pixmix.PixMix(preset="cifar", fractals=4, seed=1, rank=0)(x)
    r1 = pixmix.PixMix(preset="cifar", fractals=4, seed=1, rank=1)(x)
    assert not np.array_equal(r0, r1)
    assert np.array_equal(r1, pixmix.PixMix(preset="cifar", fractals=4, seed=1, rank=1)(x))


def test_imagenet_with_a_mixing_folder_and_a_single_image():
    aug = pixmix.PixMix(preset="imagenet", mixing=ROOT / "assets" / "mixing", seed=0)
    out = aug(batch(1, 300, 250)[0])
    assert out.shape == (1, 3, 224, 224)


def test_bad_input_is_a_clear_error():
    aug = pixmix.PixMix(preset="cifar", fractals=2)
    with pytest.raises(TypeError, match="uint8"):
        aug(batch().astype(np.float32))
    with pytest.raises(ValueError, match="N x H x W x 3"):
        aug(np.zeros((4, 32, 32), np.uint8)[None])
    with pytest.raises(ValueError, match="smaller than the 32x32 crop"):
        aug(batch(2, 16, 16))
    with pytest.raises(ValueError, match="severity"):
        pixmix.PixMix(preset="cifar", severity=11)
    with pytest.raises(ValueError, match="preset"):
        pixmix.PixMix(preset="svhn")
    with pytest.raises(ValueError, match="not a folder"):
        pixmix.PixMix(preset="cifar", mixing="/nonexistent")
    with pytest.raises(ValueError, match="device"):
        pixmix.PixMix(device="tpu")
    # The failed batch consumed nothing: the stream goes on where it was.
    fresh = pixmix.PixMix(preset="cifar", fractals=2)
    assert np.array_equal(aug(batch()), fresh(batch()))


def test_torch_cpu_tensors_come_back_as_torch_tensors():
    torch = pytest.importorskip("torch")
    x = batch()
    out = pixmix.PixMix(preset="cifar", fractals=4, seed=5)(torch.from_numpy(x))
    assert isinstance(out, torch.Tensor) and out.shape == (8, 3, 32, 32)
    assert np.array_equal(out.numpy(), pixmix.PixMix(preset="cifar", fractals=4, seed=5)(x))


def test_torch_cuda_tensors_stay_on_the_device():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    x = batch()
    gpu = pixmix.PixMix(preset="cifar", fractals=4, seed=5, device="cuda:0")
    out = gpu(torch.from_numpy(x).cuda(), dtype=torch.float16)
    assert out.is_cuda and out.dtype == torch.float16
    cpu = pixmix.PixMix(preset="cifar", fractals=4, seed=5)
    assert np.array_equal(out.cpu().numpy(), cpu(x, dtype=np.float16))
    # In place: the same memory before and after, on a side stream torch is using.
    dst = torch.empty((8, 3, 32, 32), dtype=torch.float32, device="cuda:0")
    ptr = dst.data_ptr()
    with torch.cuda.stream(torch.cuda.Stream()):
        again = gpu(torch.from_numpy(x).cuda(), out=dst)
    torch.cuda.synchronize()
    assert again is dst and dst.data_ptr() == ptr
    assert np.array_equal(dst.cpu().numpy(), cpu(x))


def test_out_tensors_are_checked_and_filled():
    torch = pytest.importorskip("torch")
    x = batch()
    aug = pixmix.PixMix(preset="cifar", fractals=4, seed=5)
    with pytest.raises(ValueError, match="contiguous"):
        aug(torch.from_numpy(x), out=torch.empty((8, 3, 32, 31)))
    with pytest.raises(TypeError, match="out="):
        aug(x, out=torch.empty((8, 3, 32, 32)))
    dst = torch.empty((8, 3, 32, 32), dtype=torch.bfloat16)
    assert aug(torch.from_numpy(x), out=dst) is dst
    want = pixmix.PixMix(preset="cifar", fractals=4, seed=5)(torch.from_numpy(x), dtype=torch.bfloat16)
    assert torch.equal(dst, want)


def test_lists_of_images_of_any_size():
    rng = np.random.default_rng(4)
    sizes = [(300, 173), (256, 256), (231, 260)]
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]
    a = pixmix.PixMix(preset="imagenet", fractals=2, seed=8)(images)
    assert a.shape == (3, 3, 224, 224) and a.dtype == np.float32
    assert np.array_equal(a, pixmix.PixMix(preset="imagenet", fractals=2, seed=8)(images))
    # A list of same-size images is the same batch as the stacked array.
    same = [rng.integers(0, 256, (40, 36, 3), dtype=np.uint8) for _ in range(4)]
    listed = pixmix.PixMix(preset="cifar", fractals=2, seed=1)(same, dtype=np.float16)
    stacked = pixmix.PixMix(preset="cifar", fractals=2, seed=1)(np.stack(same), dtype=np.float16)
    assert np.array_equal(listed, stacked)
    aug = pixmix.PixMix(preset="cifar", fractals=2)
    with pytest.raises(ValueError, match="image 1"):
        aug([same[0], same[1][:, :, :2].copy()])
    with pytest.raises(ValueError, match="image 0"):
        aug([np.zeros((0, 8, 3), dtype=np.uint8)])
    with pytest.raises(ValueError, match="at least one"):
        aug([])
    with pytest.raises(ValueError, match="H > 0|H, W > 0"):
        aug(np.zeros((2, 0, 5, 3), dtype=np.uint8))


def test_lists_of_torch_images_come_back_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(230, 240), (300, 226)]]
    want = pixmix.PixMix(preset="imagenet", fractals=2, seed=2)(images)
    got = pixmix.PixMix(preset="imagenet", fractals=2, seed=2)([torch.from_numpy(i) for i in images])
    assert isinstance(got, torch.Tensor) and torch.equal(got, torch.from_numpy(want))
    if torch.cuda.is_available():
        gpu = pixmix.PixMix(preset="imagenet", fractals=2, seed=2, device="cuda:0")
        out = gpu([torch.from_numpy(i) for i in images], dtype=torch.float32)
        assert out.is_cuda and np.array_equal(out.cpu().numpy(), want)
