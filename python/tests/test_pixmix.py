"""The Python front: numpy batches always; torch CPU tensors when torch is installed; torch
CUDA tensors when a GPU is present (zero-copy into torch's memory, on torch's stream)."""
import pathlib
import sys

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


def test_a_run_resumes_from_its_position():
    x = batch()
    a = pixmix.PixMix(preset="cifar", fractals=4, seed=2)
    a(x)
    saved = a.position
    assert saved == 8 and "position=8" in repr(a)
    want = a(x)
    b = pixmix.PixMix(preset="cifar", fractals=4, seed=2)
    b.position = saved
    assert np.array_equal(b(x), want)
    with pytest.raises(ValueError, match="position"):
        b.position = -1


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


class Foreign:
    """An array of some other framework: all pixmix may use is the DLPack protocol."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


def test_dlpack_batches_are_imported_anywhere_without_a_copy():
    x = batch()
    aug = pixmix.PixMix(preset="cifar", fractals=4, seed=6)
    out = aug(Foreign(x), dtype="float16")
    assert isinstance(out, pixmix.Batch)
    assert out.shape == (8, 3, 32, 32) and out.dtype == "float16"
    assert out.__dlpack_device__() == (1, 0) and "cpu" in repr(out)
    a, b = np.from_dlpack(out), np.from_dlpack(out)
    assert a.dtype == np.float16 and np.shares_memory(a, b), "imports share the batch"
    del out  # the imports keep the memory alive
    want = pixmix.PixMix(preset="cifar", fractals=4, seed=6)(x, dtype=np.float16)
    assert np.array_equal(a, want)
    # The same through the method, from a numpy array, and one image alone.
    same = pixmix.PixMix(preset="cifar", fractals=4, seed=6).dlpack(x, np.float16)
    assert np.array_equal(np.from_dlpack(same), want)
    one = pixmix.PixMix(preset="cifar", fractals=4, seed=6).dlpack(x[0])
    assert np.array_equal(np.from_dlpack(one), pixmix.PixMix(preset="cifar", fractals=4, seed=6)(x[:1]))


def test_dlpack_requests_and_inputs_are_checked():
    aug = pixmix.PixMix(preset="cifar", fractals=2, seed=0)
    out = aug.dlpack(batch(2))
    with pytest.raises(BufferError, match="without copying"):
        out.__dlpack__(copy=True)
    with pytest.raises(BufferError, match="device"):
        out.__dlpack__(dl_device=(2, 0))
    # Without max_version a consumer gets the legacy capsule; unconsumed, it frees itself.
    legacy = out.__dlpack__()
    assert '"dltensor"' in repr(legacy) and '"dltensor_versioned"' in repr(out.__dlpack__(max_version=(1, 0)))
    with pytest.raises(ValueError, match="uint8"):
        aug._aug.augment_dlpack(legacy, "float32")
    with pytest.raises(TypeError, match="uint8"):
        aug(Foreign(batch(2).astype(np.float32)))
    with pytest.raises(ValueError, match="N x H x W x 3"):
        aug(Foreign(np.zeros((2, 32, 32, 4), np.uint8)))
    with pytest.raises(TypeError, match="out="):
        aug(Foreign(batch(2)), out=np.zeros(1))
    with pytest.raises(ValueError, match="dtype must be float32"):
        aug.dlpack(batch(2), "int8")
    # The extension's capsule reader (used for CUDA producers) checks what it is given and
    # hands every capsule back to its producer.
    x = batch(2)
    refs = sys.getrefcount(x)
    with pytest.raises(ValueError, match="uint8"):
        aug._aug.augment_dlpack(x.astype(np.float32).__dlpack__(), "float32")
    with pytest.raises(ValueError, match="C-contiguous"):
        aug._aug.augment_dlpack(x[:, ::2].__dlpack__(), "float32")
    with pytest.raises(ValueError, match="N x H x W x 3"):
        aug._aug.augment_dlpack(x[..., :2].copy().__dlpack__(), "float32")
    with pytest.raises(ValueError, match="runs on the CPU"):
        aug._aug.augment_dlpack(x.__dlpack__(), "float32")
    capsule = x.__dlpack__()
    with pytest.raises(ValueError, match="runs on the CPU"):
        aug._aug.augment_dlpack(capsule, "float32")
    with pytest.raises(ValueError, match="unused DLPack capsule"):
        aug._aug.augment_dlpack(capsule, "float32")
    del capsule
    assert sys.getrefcount(x) == refs, "every imported capsule went back to numpy"
    # Failed batches consumed nothing.
    fresh = pixmix.PixMix(preset="cifar", fractals=2, seed=0)
    fresh.dlpack(batch(2))
    assert np.array_equal(aug(batch()), fresh(batch()))


def test_dlpack_batches_import_into_torch():
    torch = pytest.importorskip("torch")
    x = batch()
    out = pixmix.PixMix(preset="cifar", fractals=4, seed=7)(Foreign(torch.from_numpy(x)),
                                                          dtype=torch.bfloat16)
    t = torch.from_dlpack(out)
    assert t.dtype == torch.bfloat16 and t.shape == (8, 3, 32, 32)
    assert t.data_ptr() == torch.from_dlpack(out).data_ptr(), "no copy"
    want = pixmix.PixMix(preset="cifar", fractals=4, seed=7)(torch.from_numpy(x), dtype=torch.bfloat16)
    assert torch.equal(t, want)
    assert torch.equal(torch.utils.dlpack.from_dlpack(out.__dlpack__()), want), "legacy capsule"
    if not torch.cuda.is_available():
        return
    # A CUDA producer: read in place on the device, the result imported in place.
    gpu = pixmix.PixMix(preset="cifar", fractals=4, seed=7, device="cuda:0")
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        src = torch.from_numpy(x).cuda()
        out = gpu(Foreign(src), dtype=torch.float32)
        assert out.__dlpack_device__() == (2, 0)
        t = torch.from_dlpack(out)
        assert t.is_cuda and t.data_ptr() == torch.from_dlpack(out).data_ptr()
        total = t.sum()
    torch.cuda.synchronize()
    cpu = pixmix.PixMix(preset="cifar", fractals=4, seed=7)(x)
    assert np.array_equal(t.cpu().numpy(), cpu) and abs(total.item() - cpu.sum()) < 1e-2 * cpu.size
    on_host = gpu.dlpack(x, torch.float16)
    assert on_host.__dlpack_device__() == (2, 0)
    half = pixmix.PixMix(preset="cifar", fractals=4, seed=7)
    half(x)
    assert np.array_equal(torch.from_dlpack(on_host).cpu().numpy(), half(x, dtype=np.float16))
    del out, t, on_host
    torch.cuda.synchronize()
