"""The compiled extension (private: use the `pixmix` package)."""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import Batch as Batch

__version__: str

def rank_seed(seed: int, rank: int) -> int: ...

class Augmenter:
    def __init__(
        self,
        preset: str,
        mixing: Optional[str],
        seed: int,
        stream_seed: int,
        ordinal: Optional[int],
        fractals: int,
        settings: Dict[str, Any],
        threads: Optional[int] = None,
        pictures: Optional[Tuple[List[Tuple[int, int]], bytes]] = None,
        progress: bool = True,
    ) -> None: ...
    size: int
    mean: List[float]
    std: List[float]
    position: int
    stream: Optional[int]
    mixing_len: int
    threads: Optional[int]
    def reseed(self, stream_seed: int) -> None: ...
    def pictures(self) -> Tuple[List[Tuple[int, int]], bytes]: ...
    def augment_numpy(self, batch: np.ndarray, dtype: str) -> np.ndarray: ...
    def augment_images_numpy(self, images: List[np.ndarray], dtype: str) -> np.ndarray: ...
    def augment_images_into(
        self, images: List[np.ndarray], dst: int, dst_bytes: int, stream: int, dtype: str
    ) -> None: ...
    def augment_device(
        self, src: int, n: int, h: int, w: int, dst: int, dst_bytes: int, stream: int, dtype: str
    ) -> None: ...
    def augment_images_dlpack(self, images: List[np.ndarray], dtype: str) -> Batch: ...
    def augment_dlpack(self, capsule: Any, dtype: str) -> Batch: ...

class AugMixer:
    def __init__(
        self,
        preset: str,
        stream_seed: int,
        ordinal: Optional[int],
        settings: Dict[str, Any],
        jsd: bool = False,
        threads: Optional[int] = None,
    ) -> None: ...
    size: int
    mean: List[float]
    std: List[float]
    position: int
    jsd: bool
    threads: Optional[int]
    def reseed(self, stream_seed: int) -> None: ...
    def settings(self) -> Dict[str, Any]: ...
    def augment_numpy(self, batch: np.ndarray, dtype: str) -> np.ndarray: ...
    def augment_images_numpy(self, images: List[np.ndarray], dtype: str) -> np.ndarray: ...
    def augment_images_dlpack(self, images: List[np.ndarray], dtype: str) -> Batch: ...
