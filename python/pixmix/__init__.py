"""PixMix data augmentation (Hendrycks et al., CVPR 2022), equal to the released code.

    import pixmix
    aug = pixmix.PixMix(preset="cifar", mixing=None, seed=0, device="cuda:0")
    out = aug(batch)   # N x H x W x 3 uint8: torch tensor (CUDA or CPU) or numpy array

A torch CUDA batch is augmented on its own device, written into a tensor torch allocated,
ordered on torch's current stream: no copy through the host. A CPU tensor or a numpy array
goes through the CPU path (or the GPU, when the augmenter has one) and comes back the same
kind. The output is N x 3 x S x S, normalized as the preset says.
"""

import os

import numpy as np

from ._pixmix import Augmenter as _Augmenter
from ._pixmix import __version__

__all__ = ["PixMix", "__version__"]

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

    def __call__(self, batch, dtype=None, out=None):
        """Augments one batch (N x H x W x 3 uint8, or one H x W x 3 image).

        With ``out`` (a contiguous N x 3 x S x S torch tensor), a torch batch is written
        into it and ``out`` is returned; on the augmenter's GPU that happens in place, on
        torch's current stream.
        """
        if _is_torch(batch):
            return self._torch(batch, out.dtype if out is not None else dtype, out)
        if out is not None:
            raise TypeError("out= takes torch tensors; numpy batches return a new array")
        arr = np.asarray(batch)
        if arr.dtype != np.uint8:
            raise TypeError(f"expected uint8 pixels, got {arr.dtype}")
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4 or arr.shape[-1] != 3:
            raise ValueError(f"expected N x H x W x 3, got shape {arr.shape}")
        name = np.dtype(dtype or np.float32).name
        if name not in _NUMPY_DTYPES:
            raise ValueError(f"dtype must be float32 or float16, got {name}")
        return self._aug.augment_numpy(np.ascontiguousarray(arr), name)

    def _torch(self, batch, dtype, out=None):
        import torch

        dtype = dtype or torch.float32
        names = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
        if dtype not in names:
            raise ValueError(f"dtype must be float32, float16 or bfloat16, got {dtype}")
        if batch.dtype != torch.uint8:
            raise TypeError(f"expected uint8 pixels, got {batch.dtype}")
        if batch.dim() == 3:
            batch = batch.unsqueeze(0)
        if batch.dim() != 4 or batch.shape[-1] != 3:
            raise ValueError(f"expected N x H x W x 3, got shape {tuple(batch.shape)}")
        n, h, w, _ = batch.shape
        shape = (n, 3, self.size, self.size)
        if out is not None:
            if tuple(out.shape) != shape or not out.is_contiguous():
                raise ValueError(f"out must be a contiguous {shape} tensor, got "
                                 f"{tuple(out.shape)}{'' if out.is_contiguous() else ' (not contiguous)'}")
        if batch.device.type == "cpu" or (out is not None and out.device.type == "cpu"):
            host = self._aug.augment_numpy(batch.contiguous().cpu().numpy(), "float16" if dtype == torch.float16 else "float32")
            host = torch.from_numpy(host)
            host = host.to(torch.bfloat16) if dtype == torch.bfloat16 else host
            if out is None:
                return host
            return out.copy_(host)
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
                                 out.numel() * out.element_size(), stream, names[dtype])
        return out
