"""Type stubs of the pixmix package."""

import os
from typing import Any, Literal, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import numpy.typing as npt

__version__: str
__all__ = ["AugMix", "AugMixTransform", "Batch", "PixMix", "Transform", "__version__"]

# A dtype by name (float32 / f32 / float, float16 / f16 / half, bfloat16 / bf16), a numpy
# dtype or a torch dtype.
DType = Union[str, "np.dtype[Any]", type, Any, None]
Layout = Literal["NCHW", "NHWC"]
PerChannel = Union[float, Sequence[float]]
_T = TypeVar("_T")

class Batch:
    """An augmented N x 3 x S x S batch that any framework imports through DLPack."""

    @property
    def shape(self) -> Tuple[int, int, int, int]: ...
    @property
    def dtype(self) -> Literal["float32", "float16", "bfloat16"]: ...
    def __dlpack__(
        self,
        *,
        stream: Optional[int] = None,
        max_version: Optional[Tuple[int, int]] = None,
        dl_device: Optional[Tuple[int, int]] = None,
        copy: Optional[bool] = None,
    ) -> Any: ...
    def __dlpack_device__(self) -> Tuple[int, int]: ...

class PixMix:
    """A seeded PixMix augmenter of batches (see the module's documentation)."""

    device: str
    layout: Layout
    def __init__(
        self,
        preset: Literal["cifar", "imagenet"] = "cifar",
        mixing: Union[str, "os.PathLike[str]", None] = None,
        seed: int = 0,
        device: str = "cpu",
        rank: Optional[int] = None,
        fractals: int = 64,
        k: Optional[int] = None,
        beta: Optional[float] = None,
        severity: Optional[int] = None,
        *,
        size: Optional[int] = None,
        padding: Optional[int] = None,
        scale: Optional[Tuple[float, float]] = None,
        ratio: Optional[Tuple[float, float]] = None,
        mixing_resize: Optional[int] = None,
        all_ops: Optional[bool] = None,
        mean: Optional[PerChannel] = None,
        std: Optional[PerChannel] = None,
        normalize: bool = True,
        layout: Layout = "NCHW",
        worker: Optional[int] = None,
        threads: Optional[int] = None,
        progress: bool = True,
    ) -> None: ...
    @property
    def size(self) -> int: ...
    @property
    def mean(self) -> Tuple[float, float, float]: ...
    @property
    def std(self) -> Tuple[float, float, float]: ...
    @property
    def position(self) -> int: ...
    @position.setter
    def position(self, index: int) -> None: ...
    def __call__(self, batch: Any, dtype: DType = None, out: Optional[_T] = None) -> Any:
        """N x H x W x 3 or N x 3 x H x W uint8 (numpy, torch, DLPack) or a list of
        images in; the same kind of array out (a `Batch` for other DLPack producers)."""
    def dlpack(self, batch: Any, dtype: DType = None) -> Batch: ...

class Transform(PixMix):
    """PixMix of one image at a time, for a Dataset's ``__getitem__``."""

    def __call__(self, image: Any, dtype: DType = None) -> Any:  # type: ignore[override]
        """A PIL image, an H x W x 3 / 3 x H x W uint8 array or tensor in; a 3 x S x S
        float array (or tensor, for a tensor) out."""
    def sample(self, image: Any, dtype: DType = None) -> Any: ...
    def batch(self, batch: Any, dtype: DType = None, out: Any = None) -> Any: ...

class AugMix:
    """A seeded AugMix augmenter of batches, on the CPU (see the module's documentation).
    With ``jsd=True`` a batch of N images gives 3N outputs: ``[clean; aug1; aug2]``."""

    device: str
    layout: Layout
    def __init__(
        self,
        preset: Literal["cifar", "imagenet"] = "cifar",
        width: int = 3,
        depth: int = -1,
        alpha: float = 1.0,
        severity: Optional[int] = None,
        *,
        all_ops: bool = False,
        jsd: bool = False,
        seed: int = 0,
        device: str = "cpu",
        rank: Optional[int] = None,
        size: Optional[int] = None,
        padding: Optional[int] = None,
        scale: Optional[Tuple[float, float]] = None,
        ratio: Optional[Tuple[float, float]] = None,
        mean: Optional[PerChannel] = None,
        std: Optional[PerChannel] = None,
        normalize: bool = True,
        layout: Layout = "NCHW",
        worker: Optional[int] = None,
        threads: Optional[int] = None,
    ) -> None: ...
    @property
    def jsd(self) -> bool: ...
    @property
    def size(self) -> int: ...
    @property
    def mean(self) -> Tuple[float, float, float]: ...
    @property
    def std(self) -> Tuple[float, float, float]: ...
    @property
    def position(self) -> int: ...
    @position.setter
    def position(self, index: int) -> None: ...
    def __call__(self, batch: Any, dtype: DType = None, out: Optional[_T] = None) -> Any:
        """N x H x W x 3 or N x 3 x H x W uint8 (numpy, torch, host DLPack) or a list of
        images in; N (3N with jsd) x 3 x S x S of the same kind out (a `Batch` for other
        DLPack producers)."""
    def dlpack(self, batch: Any, dtype: DType = None) -> Batch: ...

class AugMixTransform(AugMix):
    """AugMix of one image at a time, for a Dataset's ``__getitem__``."""

    def __call__(self, image: Any, dtype: DType = None) -> Any:  # type: ignore[override]
        """A PIL image, an H x W x 3 / 3 x H x W uint8 array or tensor in; a 3 x S x S
        float array (or tensor, for a tensor) out, or with jsd a tuple (clean, aug1,
        aug2) of them."""
    def sample(self, image: Any, dtype: DType = None) -> Any: ...
    def batch(self, batch: Any, dtype: DType = None, out: Any = None) -> Any: ...

def __dir__() -> list[str]: ...
