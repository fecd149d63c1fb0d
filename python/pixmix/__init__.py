"""PixMix data augmentation (Hendrycks et al., CVPR 2022), equal to the released code.

    import pixmix
    aug = pixmix.PixMix(preset="cifar", mixing=None, seed=0, device="cuda:0")
    out = aug(batch)   # N x H x W x 3 uint8: torch tensor (CUDA or CPU) or numpy array
    out = aug([a, b])  # or a list of H x W x 3 images of any sizes (imagenet crops each)

A torch CUDA batch is augmented on its own device, written into a tensor torch allocated,
ordered on torch's current stream: no copy through the host. A CPU tensor or a numpy array
goes through the CPU path (or the GPU, when the augmenter has one) and comes back the same
kind. Any other array that speaks DLPack (CuPy, JAX, ...) comes back as a `Batch`, which
its framework's `from_dlpack` imports without a copy. The output is N x 3 x S x S,
normalized as the preset says.
"""

import os

import numpy as np

from ._pixmix import Augmenter as _Augmenter
from ._pixmix import Batch, __version__

__all__ = ["Batch", "PixMix", "__version__"]

_NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16}


def _ordinal(device):
    name = str(device)
    if name == "cpu":
        return None
    if name == "cuda":
        return 0
    if name.startswith("cuda:"):
        return int(name.split(":", 1)[1])
    raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def _is_torch(x):
    return type(x).__module__.split(".")[0] == "torch"


def _torch_name(dtype):
    """The extension's name of a torch output dtype."""
    import torch

    names = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
    if dtype not in names:
        raise ValueError(f"dtype must be float32, float16 or bfloat16, got {dtype}")
    return names[dtype]


def _dtype_name(dtype):
    """The extension's name of an output dtype given as None, a string, a numpy or a torch
    dtype."""
    if dtype is None:
        return "float32"
    if type(dtype).__module__.split(".")[0] == "torch":
        return _torch_name(dtype)
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    if name not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}")
    return name


_DLPACK_CPU, _DLPACK_CUDA = 1, 2


def _numpy_name(dtype):
    """The name of a numpy output dtype (float32 when None)."""
    name = np.dtype(dtype or np.float32).name
    if name not in _NUMPY_DTYPES:
        raise ValueError(f"dtype must be float32 or float16, got {name}")
    return name


def _nhwc(arr):
    """`arr` checked as uint8 pixels, one H x W x 3 image made a batch of one."""
    if arr.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixels, got {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3 or 0 in arr.shape:
        raise ValueError(f"expected N x H x W x 3 with N, H, W > 0, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _from_host(augment, dtype, out):
    """Runs `augment(numpy dtype name)` on the host and returns the batch as a torch tensor
    of `dtype`, or copied into `out`."""
    import torch

    host = torch.from_numpy(augment("float16" if dtype == torch.float16 else "float32"))
    host = host.to(torch.bfloat16) if dtype == torch.bfloat16 else host
    return host if out is None else out.copy_(host)


def _check_out(out, shape):
    if out is not None and (tuple(out.shape) != shape or not out.is_contiguous()):
        raise ValueError(f"out must be a contiguous {shape} tensor, got "
                         f"{tuple(out.shape)}{'' if out.is_contiguous() else ' (not contiguous)'}")


class PixMix:
    """A seeded PixMix augmenter.

    preset: "cifar" (32x32) or "imagenet" (224x224). mixing: a folder of mixing pictures
    (searched recursively, e.g. the released fractal set), or None to generate `fractals`
    fractal flames. device: "cpu", "cuda" or "cuda:N". rank: the data-parallel rank; by
    default the RANK environment variable torchrun sets, if any, so every rank draws its own
    reproducible stream from one seed. k, beta, severity override the preset.
    """

    def __init__(self, preset="cifar", mixing=None, seed=0, device="cpu", rank=None,
                 fractals=64, k=None, beta=None, severity=None):
        if rank is None and "RANK" in os.environ:
            rank = int(os.environ["RANK"])
        self.device = str(device)
        self._ordinal = _ordinal(device)
        self._aug = _Augmenter(preset, None if mixing is None else os.fspath(mixing), int(seed),
                               self._ordinal, rank, int(fractals), k, beta, severity)

    @property
    def size(self):
        """Side of the square output."""
        return self._aug.size

    @property
    def position(self):
        """Index of the next sample of this augmenter's random stream. Save it with a
        checkpoint and assign it back to resume with the very same plans."""
        return self._aug.position

    @position.setter
    def position(self, index):
        if int(index) < 0:
            raise ValueError(f"position must be a sample index >= 0, got {index}")
        self._aug.position = int(index)

    def __repr__(self):
        return (f"pixmix.PixMix(size={self.size}, device={self.device!r}, "
                f"position={self.position})")

    def __call__(self, batch, dtype=None, out=None):
        """Augments one batch (N x H x W x 3 uint8, one H x W x 3 image, or a list of
        H x W x 3 images of any sizes, for the imagenet preset's crops).

        With ``out`` (a contiguous N x 3 x S x S torch tensor), a torch batch is written
        into it and ``out`` is returned; on the augmenter's GPU that happens in place, on
        torch's current stream.
        """
        if isinstance(batch, (list, tuple)):
            return self._images(batch, dtype, out)
        if _is_torch(batch):
            return self._torch(batch, out.dtype if out is not None else dtype, out)
        if hasattr(batch, "__dlpack__") and not isinstance(batch, np.ndarray):
            if out is not None:
                raise TypeError("out= takes torch tensors; DLPack batches return a Batch")
            return self.dlpack(batch, dtype)
        if out is not None:
            raise TypeError("out= takes torch tensors; numpy batches return a new array")
        return self._aug.augment_numpy(_nhwc(np.asarray(batch)), _numpy_name(dtype))

    def dlpack(self, batch, dtype=None):
        """Augments a uint8 N x H x W x 3 (or H x W x 3) batch of any DLPack producer (numpy,
        torch, CuPy, JAX, ...) and returns a `Batch`, which `from_dlpack` of any framework
        imports without a copy.

        A CUDA batch is read in place on the augmenter's device, ordered by DLPack's stream
        exchange; the result stays on that device. A host batch is augmented on the GPU
        when the augmenter has one, else on the CPU.
        """
        name = _dtype_name(dtype)
        kind, index = batch.__dlpack_device__()
        if kind == _DLPACK_CUDA:
            if self._ordinal != index:
                raise ValueError(f"this augmenter runs on {self.device}, the batch is on "
                                 f"cuda:{index}")
            return self._aug.augment_dlpack(batch.__dlpack__(stream=self._aug.stream), name)
        if kind != _DLPACK_CPU:
            raise ValueError(f"batches on DLPack device type {kind} are not supported; "
                             "use the host (1) or CUDA (2)")
        return self._aug.augment_images_dlpack(list(_nhwc(np.from_dlpack(batch))), name)

    def _images(self, images, dtype, out):
        """A list of H x W x 3 uint8 images (numpy arrays, or torch tensors on any device)."""
        if len(images) == 0:
            raise ValueError("expected at least one image")
        torch_in = all(_is_torch(i) for i in images)
        arrays = []
        for i, image in enumerate(images):
            a = image.detach().cpu().numpy() if _is_torch(image) else np.asarray(image)
            if a.dtype != np.uint8 or a.ndim != 3 or a.shape[-1] != 3:
                raise ValueError(f"image {i}: expected H x W x 3 uint8, got {a.dtype} {a.shape}")
            arrays.append(np.ascontiguousarray(a))
        if not torch_in:
            if out is not None:
                raise TypeError("out= takes torch tensors; numpy images return a new array")
            return self._aug.augment_images_numpy(arrays, _numpy_name(dtype))
        import torch

        dtype = out.dtype if out is not None else (dtype or torch.float32)
        name = _torch_name(dtype)
        shape = (len(arrays), 3, self.size, self.size)
        _check_out(out, shape)
        if self._ordinal is not None and (out is None or out.is_cuda):
            device = torch.device("cuda", self._ordinal)
            if out is None:
                out = torch.empty(shape, dtype=dtype, device=device)
            elif out.device != device:
                raise ValueError(f"out is on {out.device}, this augmenter runs on {device}")
            stream = torch.cuda.current_stream(device).cuda_stream
            self._aug.augment_images_into(arrays, out.data_ptr(), out.numel() * out.element_size(),
                                          stream, name)
            return out
        return _from_host(lambda host: self._aug.augment_images_numpy(arrays, host), dtype, out)

    def _torch(self, batch, dtype, out=None):
        import torch

        dtype = dtype or torch.float32
        name = _torch_name(dtype)
        if batch.dtype != torch.uint8:
            raise TypeError(f"expected uint8 pixels, got {batch.dtype}")
        if batch.dim() == 3:
            batch = batch.unsqueeze(0)
        if batch.dim() != 4 or batch.shape[-1] != 3:
            raise ValueError(f"expected N x H x W x 3, got shape {tuple(batch.shape)}")
        n, h, w, _ = batch.shape
        shape = (n, 3, self.size, self.size)
        _check_out(out, shape)
        if batch.device.type == "cpu" or (out is not None and out.device.type == "cpu"):
            pixels = batch.contiguous().cpu().numpy()
            return _from_host(lambda host: self._aug.augment_numpy(pixels, host), dtype, out)
        index = batch.device.index if batch.device.index is not None else torch.cuda.current_device()
        if self._ordinal != index:
            raise ValueError(f"this augmenter runs on {self.device}, the batch is on cuda:{index}")
        src = batch.contiguous()
        if out is None:
            out = torch.empty(shape, dtype=dtype, device=src.device)
        elif out.device != src.device:
            raise ValueError(f"out is on {out.device}, the batch on {src.device}")
        stream = torch.cuda.current_stream(src.device).cuda_stream
        self._aug.augment_device(src.data_ptr(), n, h, w, out.data_ptr(),
                                 out.numel() * out.element_size(), stream, name)
        return out
