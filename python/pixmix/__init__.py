"""PixMix (Hendrycks et al., CVPR 2022) and AugMix (Hendrycks et al., ICLR 2020) data
augmentation, equal to the released code.

    import pixmix
    aug = pixmix.PixMix(preset="cifar", mixing=None, seed=0, device="cuda:0")
    out = aug(batch)   # N x H x W x 3 (or N x 3 x H x W) uint8: torch tensor or numpy array
    out = aug([a, b])  # or a list of H x W x 3 images of any sizes (imagenet crops each)

    t = pixmix.Transform(preset="imagenet", seed=0)   # one image at a time, in a Dataset
    x = t(pil_image)                                  # 3 x 224 x 224 float32

    am = pixmix.AugMix(preset="cifar", seed=0)        # AugMix, on the CPU, same conventions
    x = am(batch)                                     # N x 3 x 32 x 32 float32
    views = pixmix.AugMix(preset="cifar", jsd=True)(batch)  # 3N: [clean; aug1; aug2]
    t = pixmix.AugMixTransform(preset="imagenet")     # one image at a time, in a Dataset

With PixMix, a torch CUDA batch is augmented on its own device, written into a tensor
torch allocated, ordered on torch's current stream: no copy through the host. A CPU tensor or a numpy array
goes through the CPU path (or the GPU, when the augmenter has one) and comes back the same
kind. Any other array that speaks DLPack (CuPy, JAX, ...) comes back as a `Batch`, which
its framework's `from_dlpack` imports without a copy. The output is N x 3 x S x S (or
N x S x S x 3 with ``layout="NHWC"``; 3N with AugMix's JSD views), normalized as the preset says (or in [0, 1] with
``normalize=False``).

An augmenter pickles (DataLoader workers under spawn or forkserver), works in a forked
child, and in a DataLoader worker draws its own reproducible stream (the worker id folded
into the seed like the rank).
"""

import operator as _operator
import os as _os
import sys as _sys

import numpy as _np

from ._pixmix import AugMixer as _AugMixer
from ._pixmix import Augmenter as _Augmenter
from ._pixmix import Batch, __version__
from ._pixmix import rank_seed as _rank_seed

__all__ = ["AugMix", "AugMixTransform", "Batch", "PixMix", "Transform", "__version__"]

_NUMPY_DTYPES = {"float32": _np.float32, "float16": _np.float16}

# One set of names across the CLI and Python.
_DTYPE_NAMES = {
    "float32": "float32", "f32": "float32", "float": "float32",
    "float16": "float16", "f16": "float16", "half": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
}

# Added to a DataLoader worker's id before it is folded into the seed, so that worker and
# rank seeds never coincide.
_WORKER_SALT = 1 << 63


def _ordinal(device):
    name = str(device)
    if name == "cpu":
        return None
    if name == "cuda":
        return 0
    if name.startswith("cuda:") and name[5:].isdigit():
        return int(name[5:])
    raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def _is_torch(x):
    return type(x).__module__.split(".")[0] == "torch"


def _torch_name(dtype):
    """The extension's name of a torch output dtype (or of a name)."""
    import torch

    if isinstance(dtype, str):
        return _dtype_name(dtype)
    names = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
    if dtype not in names:
        raise ValueError(f"dtype must be float32, float16 or bfloat16, got {dtype}")
    return names[dtype]


def _torch_dtype(dtype):
    """A torch dtype for `dtype` (None, a name or a torch dtype)."""
    import torch

    if dtype is None:
        return torch.float32
    if isinstance(dtype, str):
        return getattr(torch, _dtype_name(dtype))
    return dtype


def _dtype_name(dtype):
    """The extension's name of an output dtype given as None, a string (float32 / f32,
    float16 / f16 / half, bfloat16 / bf16), a numpy or a torch dtype."""
    if dtype is None:
        return "float32"
    if type(dtype).__module__.split(".")[0] == "torch":
        return _torch_name(dtype)
    if isinstance(dtype, str):
        name = _DTYPE_NAMES.get(dtype.lower())
    else:
        try:
            name = _np.dtype(dtype).name
        except TypeError:
            name = None
    if name not in ("float32", "float16", "bfloat16"):
        raise ValueError("dtype must be float32 (f32), float16 (f16, half) or bfloat16 (bf16), "
                         f"got {dtype!r}")
    return name


_DLPACK_CPU, _DLPACK_CUDA = 1, 2


def _numpy_name(dtype):
    """The name of a numpy output dtype (float32 when None)."""
    name = _dtype_name(dtype)
    if name not in _NUMPY_DTYPES:
        raise ValueError(f"numpy has no bfloat16: dtype must be float32 or float16, got {dtype!r}")
    return name


def _channel_first(shape):
    """Whether an image or batch of `shape` is 3 x H x W (channel first): its last axis is
    not 3 and its third from last is."""
    return len(shape) >= 3 and shape[-1] != 3 and shape[-3] == 3


def _nhwc(arr):
    """`arr` checked as uint8 pixels, one image made a batch of one, channel-first
    (N x 3 x H x W, 3 x H x W) made channel-last."""
    if arr.dtype != _np.uint8:
        raise TypeError(f"expected uint8 pixels, got {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim == 4 and _channel_first(arr.shape):
        arr = arr.transpose(0, 2, 3, 1)
    if arr.ndim != 4 or arr.shape[-1] != 3 or 0 in arr.shape:
        raise ValueError("expected N x H x W x 3 or N x 3 x H x W with N, H, W > 0, got shape "
                         f"{arr.shape}")
    return _np.ascontiguousarray(arr)


def _hwc_image(image, i=0):
    """One image as a contiguous H x W x 3 uint8 numpy array: a numpy array or torch tensor
    (H x W x 3 or 3 x H x W, tv_tensors.Image included), or a PIL image (any mode, made
    RGB)."""
    if hasattr(image, "convert") and hasattr(image, "mode"):
        a = _np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    elif _is_torch(image):
        a = image.detach().cpu().numpy()
    else:
        a = _np.asarray(image)
    if a.ndim == 3 and _channel_first(a.shape):
        a = a.transpose(1, 2, 0)
    if a.dtype != _np.uint8 or a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"image {i}: expected H x W x 3 (or 3 x H x W) uint8, got {a.dtype} "
                         f"{a.shape}")
    return _np.ascontiguousarray(a)


def _count(value, name):
    """`value` as an integer in [0, 2**64) (numpy integers included), else a ValueError
    naming it."""
    try:
        if isinstance(value, bool):
            raise TypeError
        n = _operator.index(value)
    except TypeError:
        n = -1
    if not 0 <= n < 1 << 64:
        raise ValueError(f"{name} must be an integer in [0, 2**64), got {value!r}")
    return n


def _worker_id():
    """The id of the torch DataLoader worker this process is, or None (not a worker, or
    torch not imported)."""
    data = _sys.modules.get("torch.utils.data")
    info = data.get_worker_info() if data is not None else None
    return None if info is None else int(info.id)


def _to_layout(out, layout):
    """An N x 3 x S x S result in the requested layout (NHWC: N x S x S x 3, contiguous)."""
    if layout == "NCHW":
        return out
    if _is_torch(out):
        return out.permute(0, 2, 3, 1).contiguous()
    return _np.ascontiguousarray(out.transpose(0, 2, 3, 1))


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


class _Front:
    """What `PixMix` and `AugMix` share: the seed with the rank and the DataLoader worker
    folded in, the extension object (`self._aug`) with its per-process thread pool,
    pickling, the stream position, and the inputs and outputs of a call (numpy, torch,
    DLPack, lists of images; NCHW or NHWC).

    A subclass names its settings (`_SETTINGS`, passed to the extension in a dict), says
    how many output views an image gets (`_views`) and builds its extension object
    (`_extension`)."""

    # The arguments checked as integers in [0, 2**64).
    _COUNTS = ("seed", "rank", "worker", "threads")
    # The arguments the extension takes as settings.
    _SETTINGS = ()
    # Whether the extension object reads and writes CUDA memory itself (PixMix's CUDA
    # executor); without it, torch CUDA batches on the augmenter's device go through the
    # host.
    _DEVICE_BUFFERS = False
    # Output blocks per input image: N x 3 x S x S, or with JSD views 3N.
    _views = 1

    def _build(self, args, state):
        """Checks `args` and builds the extension object; `state` is a pickled augmenter's
        (None for a new one)."""
        for name in self._COUNTS:
            if args[name] is not None:
                args[name] = _count(args[name], name)
        if args["layout"] not in ("NCHW", "NHWC"):
            raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {args['layout']!r}")
        if not isinstance(args["preset"], str):
            raise ValueError(f"preset must be 'cifar' or 'imagenet', got {args['preset']!r}")
        self._args = args
        self.device = args["device"]
        self._ordinal = _ordinal(self.device)
        self.layout = args["layout"]
        settings = {name: args[name] for name in self._SETTINGS}
        seed = args["seed"]
        stream = seed if args["rank"] is None else _rank_seed(seed, args["rank"])
        self._rank_stream = stream
        self._worker = args["worker"]
        if self._worker is not None:
            stream = _rank_seed(stream, _WORKER_SALT + self._worker)
        self._aug = self._extension(args, settings, stream, state)

    def _extension(self, args, settings, stream, state):
        raise NotImplementedError

    def _follow_worker(self):
        """In a DataLoader worker, folds its id into the seed (once; an explicit `worker`
        wins) and, unless `threads` was given, runs on one thread, as torch's own workers
        do, so that the workers do not compete for the cores."""
        if self._worker is None:
            worker = _worker_id()
            if worker is not None:
                self._worker = worker
                self._aug.reseed(_rank_seed(self._rank_stream, _WORKER_SALT + worker))
                if self._args["threads"] is None:
                    self._aug.threads = 1

    def __getstate__(self):
        # A worker that was found (not given) is found again where the copy runs; the
        # rank stays the one this augmenter was built with.
        return {"args": dict(self._args), "position": self.position}

    def __setstate__(self, state):
        self._build(dict(state["args"]), state)
        self.position = state["position"]

    @property
    def size(self):
        """Side of the square output."""
        return self._aug.size

    @property
    def mean(self):
        """Per-channel mean subtracted (0 with normalize=False)."""
        return tuple(self._aug.mean)

    @property
    def std(self):
        """Per-channel standard deviation divided by (1 with normalize=False)."""
        return tuple(self._aug.std)

    @property
    def position(self):
        """Index of the next sample of this augmenter's random stream. Save it with a
        checkpoint and assign it back to resume with the very same plans."""
        return self._aug.position

    @position.setter
    def position(self, index):
        self._aug.position = _count(index, "position")

    def _describe(self):
        """The settings shown by repr, after the preset."""
        return f"size={self.size}"

    def __repr__(self):
        return (f"pixmix.{type(self).__name__}(preset={self._args['preset']!r}, "
                f"{self._describe()}, device={self.device!r}, position={self.position})")

    def __call__(self, batch, dtype=None, out=None):
        """Augments one batch (N x H x W x 3 uint8, one H x W x 3 image, or a list of
        H x W x 3 images of any sizes, for the imagenet preset's crops).

        With ``out`` (a contiguous torch tensor of the output's shape), a torch batch is
        written into it and ``out`` is returned; on the augmenter's GPU that happens in
        place, on torch's current stream.
        """
        self._follow_worker()
        if out is not None and self.layout != "NCHW":
            raise ValueError("out= takes N x 3 x S x S tensors; it needs layout='NCHW'")
        if isinstance(batch, (list, tuple)):
            return _to_layout(self._images(batch, dtype, out), self.layout)
        if _is_torch(batch):
            return _to_layout(self._torch(batch, out.dtype if out is not None else dtype, out),
                              self.layout)
        if hasattr(batch, "__dlpack__") and not isinstance(batch, _np.ndarray):
            if out is not None:
                raise TypeError("out= takes torch tensors; DLPack batches return a Batch")
            return self.dlpack(batch, dtype)
        if out is not None:
            raise TypeError("out= takes torch tensors; numpy batches return a new array")
        return _to_layout(self._aug.augment_numpy(_nhwc(_np.asarray(batch)), _numpy_name(dtype)),
                          self.layout)

    def dlpack(self, batch, dtype=None):
        """Augments a uint8 N x H x W x 3 (or H x W x 3) batch of any DLPack producer (numpy,
        torch, CuPy, JAX, ...) and returns a `Batch`, which `from_dlpack` of any framework
        imports without a copy.

        A CUDA batch is read in place on the augmenter's device, ordered by DLPack's stream
        exchange; the result stays on that device. A host batch is augmented on the GPU
        when the augmenter has one, else on the CPU.
        """
        if self.layout != "NCHW":
            raise ValueError("DLPack batches are N x 3 x S x S; they need layout='NCHW'")
        self._follow_worker()
        name = _dtype_name(dtype)
        kind, index = batch.__dlpack_device__()
        if kind == _DLPACK_CUDA:
            if self._ordinal != index:
                raise ValueError(f"this augmenter runs on {self.device}, the batch is on "
                                 f"cuda:{index}")
            if not self._DEVICE_BUFFERS:
                raise ValueError(f"{type(self).__name__} reads DLPack batches from the host; "
                                 f"the batch is on cuda:{index}")
            return self._aug.augment_dlpack(batch.__dlpack__(stream=self._aug.stream), name)
        if kind != _DLPACK_CPU:
            raise ValueError(f"batches on DLPack device type {kind} are not supported; "
                             "use the host (1) or CUDA (2)")
        return self._aug.augment_images_dlpack(list(_nhwc(_np.from_dlpack(batch))), name)

    def _images(self, images, dtype, out):
        """A list of H x W x 3 uint8 images (numpy arrays, or torch tensors on any device)."""
        if len(images) == 0:
            raise ValueError("expected at least one image")
        torch_in = all(_is_torch(i) for i in images)
        arrays = [_hwc_image(image, i) for i, image in enumerate(images)]
        if not torch_in:
            if out is not None:
                raise TypeError("out= takes torch tensors; numpy images return a new array")
            return self._aug.augment_images_numpy(arrays, _numpy_name(dtype))
        import torch

        dtype = out.dtype if out is not None else _torch_dtype(dtype)
        name = _torch_name(dtype)
        shape = (self._views * len(arrays), 3, self.size, self.size)
        _check_out(out, shape)
        if self._DEVICE_BUFFERS and self._ordinal is not None and (out is None or out.is_cuda):
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

        dtype = _torch_dtype(dtype)
        name = _torch_name(dtype)
        if batch.dtype != torch.uint8:
            raise TypeError(f"expected uint8 pixels, got {batch.dtype}")
        batch = batch.as_subclass(torch.Tensor)  # tv_tensors.Image: a plain tensor
        if batch.dim() == 3:
            batch = batch.unsqueeze(0)
        if batch.dim() == 4 and _channel_first(tuple(batch.shape)):
            batch = batch.permute(0, 2, 3, 1)
        if batch.dim() != 4 or batch.shape[-1] != 3:
            raise ValueError(f"expected N x H x W x 3 or N x 3 x H x W, got shape "
                             f"{tuple(batch.shape)}")
        n, h, w, _ = batch.shape
        shape = (self._views * n, 3, self.size, self.size)
        _check_out(out, shape)
        if batch.device.type == "cpu" or (out is not None and out.device.type == "cpu"):
            pixels = batch.contiguous().cpu().numpy()
            return _from_host(lambda host: self._aug.augment_numpy(pixels, host), dtype, out)
        index = batch.device.index if batch.device.index is not None else torch.cuda.current_device()
        if self._ordinal != index:
            raise ValueError(f"this augmenter runs on {self.device}, the batch is on cuda:{index}")
        if not self._DEVICE_BUFFERS:
            # Through the host, back to the batch's device.
            pixels = batch.contiguous().cpu().numpy()
            host = _from_host(lambda host: self._aug.augment_numpy(pixels, host), dtype, None)
            return host.to(batch.device) if out is None else out.copy_(host)
        src = batch.contiguous()
        if out is None:
            out = torch.empty(shape, dtype=dtype, device=src.device)
        elif out.device != src.device:
            raise ValueError(f"out is on {out.device}, the batch on {src.device}")
        stream = torch.cuda.current_stream(src.device).cuda_stream
        self._aug.augment_device(src.data_ptr(), n, h, w, out.data_ptr(),
                                 out.numel() * out.element_size(), stream, name)
        return out


class _PerSample:
    """One image at a time, for a Dataset's ``__getitem__``: mixed into `PixMix` and
    `AugMix` by `Transform` and `AugMixTransform`."""

    def __call__(self, image, dtype=None):
        """Augments one image; see the class."""
        return self.sample(image, dtype)

    def sample(self, image, dtype=None):
        """Augments one image into one 3 x S x S sample (S x S x 3 with layout="NHWC"),
        or with JSD views a tuple of three: (clean, aug1, aug2)."""
        self._follow_worker()
        a = _hwc_image(image)
        if _is_torch(image):
            import torch

            out = self._images([torch.from_numpy(a)], dtype, None)
        else:
            out = self._aug.augment_images_numpy([a], _numpy_name(dtype))
        out = _to_layout(out, self.layout)
        return out[0] if self._views == 1 else tuple(out)

    def batch(self, batch, dtype=None, out=None):
        """Augments a batch, as the batch augmenter (`PixMix`, `AugMix`) does."""
        return _Front.__call__(self, batch, dtype, out)


class PixMix(_Front):
    """A seeded PixMix augmenter of batches.

    preset: "cifar" (32x32, flip + padded crop) or "imagenet" (224x224, random resized crop
    + flip), the released recipes; every setting below overrides it.
    mixing: a folder of mixing pictures (searched recursively, e.g. the released fractal
    set), or None to generate `fractals` fractal flames from `seed` (the same pictures for
    every rank and worker).
    seed: the seed of the random stream. rank: the data-parallel rank (by default the RANK
    environment variable torchrun sets, if any); worker: the DataLoader worker (by default
    read from ``torch.utils.data.get_worker_info()`` at the first batch). Both are folded
    into the seed, so every rank and worker draws its own reproducible stream.
    device: "cpu", "cuda" or "cuda:N" (checked before any work).

    Settings (None keeps the preset's): size (output side), padding (the flip + padded
    crop's zero padding), scale and ratio (the random resized crop's ranges; giving either
    selects that crop), mixing_resize (mixing pictures are resized so their shorter side is
    this long; by default in the preset's proportion to size), k (rounds), beta, severity
    (1 to 10), all_ops (the 13 operators rather than the default 9), mean and std (one
    number or three), normalize=False ([0, 1] output), layout "NCHW" or "NHWC"
    (channels-last). threads: CPU threads (default: all cores, or RAYON_NUM_THREADS; one
    in a DataLoader worker). progress: a progress line on stderr when the
    fractals take more than a second to render.

    Invalid values raise ValueError naming the value. An augmenter pickles (the same
    settings, seed, position and mixing pictures), keeps working in a forked child (its
    thread pool belongs to one process) and may be shared by threads (calls take turns).
    """

    _COUNTS = _Front._COUNTS + ("fractals",)
    _SETTINGS = ("size", "padding", "scale", "ratio", "mixing_resize", "k", "beta",
                 "severity", "all_ops", "mean", "std", "normalize")
    _DEVICE_BUFFERS = True

    def __init__(self, preset="cifar", mixing=None, seed=0, device="cpu", rank=None,
                 fractals=64, k=None, beta=None, severity=None, *, size=None, padding=None,
                 scale=None, ratio=None, mixing_resize=None, all_ops=None, mean=None,
                 std=None, normalize=True, layout="NCHW", worker=None, threads=None,
                 progress=True):
        if rank is None and "RANK" in _os.environ:
            rank = int(_os.environ["RANK"])
        args = dict(preset=preset, mixing=None if mixing is None else _os.fspath(mixing),
                    seed=seed, device=str(device), rank=rank, fractals=fractals, k=k,
                    beta=beta, severity=severity, size=size, padding=padding, scale=scale,
                    ratio=ratio, mixing_resize=mixing_resize, all_ops=all_ops, mean=mean,
                    std=std, normalize=normalize, layout=layout, worker=worker,
                    threads=threads, progress=progress)
        self._build(args, None)

    def _extension(self, args, settings, stream, state):
        # A pickled augmenter brings its generated pictures (nothing to render again).
        pictures = None if state is None else state.get("pictures")
        progress = bool(args["progress"]) and state is None
        return _Augmenter(args["preset"], args["mixing"], args["seed"], stream, self._ordinal,
                          args["fractals"], settings, args["threads"], pictures, progress)

    def __getstate__(self):
        state = _Front.__getstate__(self)
        if self._args["mixing"] is None:
            state["pictures"] = self._aug.pictures()
        return state



class Transform(_PerSample, PixMix):
    """PixMix of one image at a time, for a Dataset's ``__getitem__`` (torchvision style).

    Takes the settings of `PixMix`. Called with a PIL image (any mode; made RGB), an
    H x W x 3 or 3 x H x W uint8 numpy array, or a uint8 torch tensor, it returns the
    augmented 3 x S x S sample (S x S x 3 with layout="NHWC"): a float32 numpy array, or a
    torch tensor for a torch input. DataLoader's default collate stacks numpy samples into
    a tensor. In a DataLoader worker each worker draws its own reproducible stream; the
    sample depends on the worker and on how many samples that worker has drawn before.

        from torch.utils.data import DataLoader
        from torchvision.datasets import CIFAR10

        data = CIFAR10("data", train=True, download=True,
                       transform=pixmix.Transform(preset="cifar", seed=0))
        loader = DataLoader(data, batch_size=128, shuffle=True, num_workers=4,
                            persistent_workers=True)
        for x, y in loader:        # x: 128 x 3 x 32 x 32 float32, normalized
            ...
    """


class AugMix(_Front):
    """A seeded AugMix augmenter of batches (Hendrycks et al., ICLR 2020), equal to the
    released code (`google-research/augmix`, function ``aug``), on the CPU.

    preset: "cifar" (32x32, flip + padded crop, severity 3, mean and std 0.5) or "imagenet"
    (224x224, random resized crop + flip, severity 1, ImageNet mean and std), the released
    recipes; every setting below overrides it.
    width: chains mixed (1 to 8); depth: operators per chain (1 to 3, or -1 for uniform in
    1..=3 per chain); alpha: the concentration of the Dirichlet chain weights and both
    shapes of the Beta mixing weight (0.001 to 1e6); severity: 1 to 10 (None: the preset's);
    all_ops: the 13 operators rather than the default 9.
    jsd: return the three views of the Jensen-Shannon consistency loss: a batch of N
    images gives 3N x 3 x S x S in three stacked blocks ``[clean(N); aug1(N); aug2(N)]``
    (``torch.split(x, N)`` or ``x.reshape(3, N, 3, S, S)`` separates them). The clean view
    is the train-transformed, normalized image; the two AugMix views are independent draws
    on the same train transform, as the released ``AugMixDataset`` returns them. A JSD
    batch consumes one sample of the random stream per image, and its aug1 block equals
    what ``jsd=False`` gives for the same seed and position.

    seed, rank, worker, device, threads, size, padding, scale, ratio, mean, std,
    normalize and layout as for `PixMix`. device: "cpu", or "cuda"/"cuda:N" to run every
    chain on a GPU with the CPU's bytes (the batch is copied back to the host; torch CUDA
    inputs come back on their device). Inputs, dtypes and outputs are PixMix's: numpy,
    torch CPU tensors and host DLPack producers, batches or lists of images of any sizes,
    channel-last or channel-first; the output is N (3N with jsd) x 3 x S x S or, with
    layout="NHWC", N x S x S x 3.

    Invalid values raise ValueError naming the value. An augmenter pickles (its settings,
    seed and position), keeps working in a forked child, draws its own reproducible stream
    in each DataLoader worker and may be shared by threads (calls take turns).
    """

    _SETTINGS = ("size", "padding", "scale", "ratio", "severity", "all_ops", "mean", "std",
                 "normalize", "width", "depth", "alpha")

    def __init__(self, preset="cifar", width=3, depth=-1, alpha=1.0, severity=None, *,
                 all_ops=False, jsd=False, seed=0, device="cpu", rank=None, size=None,
                 padding=None, scale=None, ratio=None, mean=None, std=None, normalize=True,
                 layout="NCHW", worker=None, threads=None):
        if rank is None and "RANK" in _os.environ:
            rank = int(_os.environ["RANK"])
        args = dict(preset=preset, width=width, depth=depth, alpha=alpha, severity=severity,
                    all_ops=all_ops, jsd=jsd, seed=seed, device=str(device), rank=rank,
                    size=size, padding=padding, scale=scale, ratio=ratio, mean=mean, std=std,
                    normalize=normalize, layout=layout, worker=worker, threads=threads)
        self._build(args, None)

    def _extension(self, args, settings, stream, state):
        if not isinstance(args["jsd"], (bool, _np.bool_)):
            raise ValueError(f"jsd must be True or False, got {args['jsd']!r}")
        self._views = 3 if args["jsd"] else 1
        return _AugMixer(args["preset"], stream, self._ordinal, settings, bool(args["jsd"]),
                         args["threads"])

    @property
    def jsd(self):
        """Whether a call returns the three JSD views of every image."""
        return self._views == 3

    def _describe(self):
        s = self._aug.settings()
        return (f"size={self.size}, width={s['width']}, depth={s['depth']}, "
                f"alpha={s['alpha']}, severity={s['severity']}, jsd={self.jsd}")



class AugMixTransform(_PerSample, AugMix):
    """AugMix of one image at a time, for a Dataset's ``__getitem__`` (torchvision style).

    Takes the settings of `AugMix`. Called with a PIL image (any mode; made RGB), an
    H x W x 3 or 3 x H x W uint8 numpy array, or a uint8 torch tensor, it returns the
    augmented 3 x S x S sample (a float32 numpy array, or a torch tensor for a torch
    input); with ``jsd=True`` a tuple of three such views ``(clean, aug1, aug2)``, as the
    released ``AugMixDataset`` returns them: the default collate makes it a list of three
    N x 3 x S x S batches, which ``torch.cat(views)`` stacks as ``AugMix(jsd=True)`` does.
    Each DataLoader worker draws its own reproducible stream, as with `Transform`.

        from torch.utils.data import DataLoader
        from torchvision.datasets import CIFAR10

        data = CIFAR10("data", train=True, download=True,
                       transform=pixmix.AugMixTransform(preset="cifar", jsd=True, seed=0))
        loader = DataLoader(data, batch_size=128, shuffle=True, num_workers=4,
                            persistent_workers=True)
        for (clean, aug1, aug2), y in loader:   # each 128 x 3 x 32 x 32 float32
            ...
    """


def __dir__():
    return __all__
