"""The CUDA path without torch: batches on a CUDA device, exported and imported through
DLPack, read back with the driver API (ctypes). Runs on a GPU or under the CUDA driver
emulator (scripts/emulated-cuda.sh); skipped without a driver, failed instead when
PIXMIX_REQUIRE_CUDA=1."""

import ctypes
import os

import numpy as np
import pytest

import pixmix

REQUIRE = os.environ.get("PIXMIX_REQUIRE_CUDA") == "1"


def cuda_augmenter(**kwargs):
    try:
        return pixmix.PixMix(device="cuda:0", **kwargs)
    except Exception as e:  # no driver or no device
        if REQUIRE:
            raise
        pytest.skip(f"no CUDA device: {e}")


def batch(n=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def libcuda():
    for name in ("libcuda.so.1", "libcuda.so"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            pass
    pytest.fail("a CUDA augmenter exists but libcuda cannot be opened")


class DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device_type", ctypes.c_int32),
        ("device_id", ctypes.c_int32),
        ("ndim", ctypes.c_int32),
        ("code", ctypes.c_uint8),
        ("bits", ctypes.c_uint8),
        ("lanes", ctypes.c_uint16),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", DELETER)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [
        ("major", ctypes.c_uint32),
        ("minor", ctypes.c_uint32),
        ("manager_ctx", ctypes.c_void_p),
        ("deleter", DELETER),
        ("flags", ctypes.c_uint64),
        ("dl_tensor", DLTensor),
    ]


_api = ctypes.pythonapi
_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_New.restype = ctypes.py_object
_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]


def tensor_of(capsule, versioned):
    """The DLTensor a capsule holds (the capsule is only read, not consumed)."""
    name = b"dltensor_versioned" if versioned else b"dltensor"
    address = _api.PyCapsule_GetPointer(capsule, name)
    managed = (DLManagedTensorVersioned if versioned else DLManagedTensor).from_address(address)
    return managed.dl_tensor


def download(cuda, t, dtype):
    """The bytes of a CUDA DLTensor, copied with cuMemcpyDtoH on the legacy stream."""
    shape = tuple(t.shape[i] for i in range(t.ndim))
    host = np.empty(shape, dtype)
    rc = cuda.cuMemcpyDtoH_v2(host.ctypes.data_as(ctypes.c_void_p),
                              ctypes.c_uint64(t.data + t.byte_offset), ctypes.c_size_t(host.nbytes))
    assert rc == 0, f"cuMemcpyDtoH failed with CUresult {rc}"
    return host


def test_cuda_batches_equal_cpu_batches():
    x = batch()
    gpu = cuda_augmenter(preset="cifar", fractals=4, seed=9)
    cpu = pixmix.PixMix(preset="cifar", fractals=4, seed=9)
    for dtype in (np.float32, np.float16):
        a, b = gpu(x, dtype=dtype), cpu(x, dtype=dtype)
        assert a.dtype == dtype and np.array_equal(a, b)


def test_augmix_cuda_batches_equal_cpu_batches():
    x = np.random.default_rng(5).integers(0, 256, (6, 40, 36, 3), dtype=np.uint8)
    for jsd in (False, True):
        try:
            gpu = pixmix.AugMix(preset="cifar", jsd=jsd, seed=4, device="cuda:0")
        except Exception as e:  # no driver or no device
            if REQUIRE:
                raise
            pytest.skip(f"no CUDA device: {e}")
        cpu = pixmix.AugMix(preset="cifar", jsd=jsd, seed=4)
        for dtype in (np.float32, np.float16):
            a, b = gpu(x, dtype=dtype), cpu(x, dtype=dtype)
            assert a.shape == ((18 if jsd else 6), 3, 32, 32)
            assert a.dtype == dtype and np.array_equal(a, b)


def test_a_cuda_batch_is_exported_through_dlpack_with_its_stream_hand_off():
    x = batch(4, seed=1)
    cuda_aug = cuda_augmenter(preset="cifar", fractals=4, seed=3)
    want = pixmix.PixMix(preset="cifar", fractals=4, seed=3)(x, dtype=np.float16)
    cuda = libcuda()
    out = cuda_aug.dlpack(x, "float16")
    assert out.__dlpack_device__() == (2, 0) and "cuda" in repr(out)
    with pytest.raises(BufferError, match="device"):
        out.__dlpack__(dl_device=(1, 0))
    with pytest.raises(BufferError, match="stream"):
        out.__dlpack__(stream=-5)
    # Handed to the legacy stream (1), on which the download then runs.
    capsule = out.__dlpack__(stream=1)
    t = tensor_of(capsule, versioned=False)
    assert (t.device_type, t.device_id, t.ndim) == (2, 0, 4)
    assert (t.code, t.bits, t.lanes) == (2, 16, 1)
    assert np.array_equal(download(cuda, t, np.float16), want)
    # A versioned capsule, handed to the per-thread default stream (2).
    versioned = out.__dlpack__(stream=2, max_version=(1, 0))
    assert tensor_of(versioned, versioned=True).data == t.data, "every export shares the batch"


def test_a_cuda_producer_batch_is_augmented_on_the_device():
    """A uint8 batch in device memory (allocated and filled with the driver API), offered
    by a DLPack producer, comes back augmented on the same device, equal to the CPU path."""
    x = batch(4, seed=2)
    cuda_aug = cuda_augmenter(preset="cifar", fractals=4, seed=4)
    want = pixmix.PixMix(preset="cifar", fractals=4, seed=4)(x)
    cuda = libcuda()
    dptr = ctypes.c_uint64()
    assert cuda.cuMemAlloc_v2(ctypes.byref(dptr), ctypes.c_size_t(x.nbytes)) == 0
    assert cuda.cuMemcpyHtoD_v2(dptr, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(x.nbytes)) == 0
    shape = (ctypes.c_int64 * 4)(*x.shape)
    deleted = []

    @DELETER
    def deleter(_):
        deleted.append(True)

    managed = DLManagedTensor()
    managed.dl_tensor = DLTensor(dptr.value, 2, 0, 4, 1, 8, 1,
                                 ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64)), None, 0)
    managed.deleter = deleter
    streams = []

    class Producer:
        def __dlpack__(self, stream=None, **kwargs):
            streams.append(stream)
            return _api.PyCapsule_New(ctypes.addressof(managed), b"dltensor", None)

        def __dlpack_device__(self):
            return (2, 0)

    out = cuda_aug(Producer())
    assert isinstance(out, pixmix.Batch) and out.shape == (4, 3, 32, 32)
    assert streams == [cuda_aug._aug.stream], "the producer readies its batch on our stream"
    capsule = out.__dlpack__(stream=1)
    got = download(cuda, tensor_of(capsule, versioned=False), np.float32)
    assert np.array_equal(got, want)
    del out, capsule
    assert deleted == [True], "the producer got its batch back once the result was released"
    assert cuda.cuMemFree_v2(dptr) == 0
