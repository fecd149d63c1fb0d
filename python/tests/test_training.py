"""What training code needs: every setting, dtype names, pickling, DataLoader workers
(spawn, forkserver, fork), threads, and the per-sample transform. numpy only; the torch
DataLoader is imitated by its get_worker_info."""
import multiprocessing as mp
import pickle
import sys
import threading
import types

import numpy as np
import pytest

import pixmix


def batch(n=4, h=32, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def cifar(**kw):
    return pixmix.PixMix(preset="cifar", fractals=3, progress=False, **kw)


def test_only_the_api_is_exported():
    assert set(pixmix.__all__) == {"AugMix", "AugMixTransform", "Batch", "PixMix", "Transform",
                                   "__version__"}
    assert not {"np", "os", "sys"} & set(dir(pixmix))
    assert not hasattr(pixmix, "np") and not hasattr(pixmix, "os")


def test_dtype_names_match_the_cli():
    x = batch()
    want = cifar(seed=1)(x, dtype=np.float16)
    for name in ("f16", "float16", "half", "F16"):
        assert np.array_equal(cifar(seed=1)(x, dtype=name), want), name
    assert cifar(seed=1)(x, dtype="f32").dtype == np.float32
    with pytest.raises(ValueError, match="numpy has no bfloat16"):
        cifar()(x, dtype="bf16")
    with pytest.raises(ValueError, match="'f64'"):
        cifar()(x, dtype="f64")


def test_every_setting_is_accepted_and_used():
    x = batch()
    out = cifar(size=24, padding=0, k=2, beta=1.5, severity=5, all_ops=False)(x)
    assert out.shape == (4, 3, 24, 24)
    # normalize=False: the same pixels in [0, 1] (the cifar preset's mean and std are 0.5).
    plain = cifar(seed=4, normalize=False)(x)
    norm = cifar(seed=4)(x)
    assert plain.min() >= 0 and plain.max() <= 1
    assert np.allclose(plain, norm * 0.5 + 0.5, atol=1e-6)
    assert cifar(normalize=False).mean == (0, 0, 0) and cifar(normalize=False).std == (1, 1, 1)
    custom = cifar(seed=4, mean=[0.5, 0.5, 0.5], std=0.5)(x)
    assert np.array_equal(custom, norm)
    # Channels-last output, and the random resized crop's ranges on a cifar-sized image.
    nhwc = cifar(seed=4, layout="NHWC")(x)
    assert nhwc.shape == (4, 32, 32, 3) and np.array_equal(nhwc, norm.transpose(0, 2, 3, 1))
    crop = cifar(seed=4, scale=(0.5, 1.0), ratio=(0.9, 1.1))(x)
    assert crop.shape == norm.shape and not np.array_equal(crop, norm)
    big = pixmix.PixMix(preset="imagenet", fractals=2, size=64, progress=False)
    assert big(batch(2, 80, 90)).shape == (2, 3, 64, 64)
    assert big._aug.pictures()[0][0] == (74, 74), "mixing_resize follows size (256/224, rounded up)"
    again = pixmix.PixMix(preset="imagenet", fractals=2, size=64, mixing_resize=100,
                          progress=False)
    assert again._aug.pictures()[0][0] == (100, 100)


@pytest.mark.parametrize("kw, match", [
    (dict(k=-1), "k must be an integer in 0..=64, got -1"),
    (dict(k=65), "k must be at most 64, got 65"),
    (dict(severity=0), "severity must be in 1..=10, got 0"),
    (dict(beta=0.0), "beta must be .* got 0"),
    (dict(beta="x"), "beta must be a number > 0, got 'x'"),
    (dict(size=0), "size must be in 1..=4096, got 0"),
    (dict(mixing_resize=10), "mixing_resize must be at least size .* got 10"),
    (dict(padding=-2), "padding must be an integer >= 0, got -2"),
    (dict(padding=2, scale=(0.5, 1)), "padding belongs to"),
    (dict(scale=(0.9, 0.1)), r"scale must satisfy .* got \(0.9, 0.1\)"),
    (dict(mean=[1, 2]), "mean must be a number or three numbers, got 2 numbers"),
    (dict(std=0), r"std\[0\] must be finite and non-zero, got 0"),
    (dict(normalize=False, mean=0.5), "normalize=False"),
    (dict(layout="NHCW"), "layout must be 'NCHW' or 'NHWC', got 'NHCW'"),
    (dict(seed=-1), r"seed must be an integer in \[0, 2\*\*64\), got -1"),
    (dict(seed=1 << 64), "seed must be an integer"),
    (dict(rank=1.5), "rank must be an integer .* got 1.5"),
    (dict(threads=0), "threads must be at least 1, got 0"),
    (dict(device="cuda:x"), "device must be .* got 'cuda:x'"),
])
def test_invalid_settings_are_value_errors_naming_the_value(kw, match):
    with pytest.raises(ValueError, match=match):
        cifar(**kw)


def test_the_device_is_checked_before_the_fractals_are_rendered():
    # Rendering 100,000 fractals would take hours: the error must come first.
    with pytest.raises(RuntimeError, match="CUDA"):
        pixmix.PixMix(preset="cifar", fractals=100_000, device="cuda:99")


def test_numpy_integers_are_integers():
    x = batch()
    a = cifar(seed=np.int64(3), rank=np.uint8(1))
    a.position = np.int32(4)
    b = cifar(seed=3, rank=1)
    b.position = 4
    assert np.array_equal(a(x), b(x))


def test_channel_first_input_is_accepted():
    x = batch()
    want = cifar(seed=2)(x)
    assert np.array_equal(cifar(seed=2)(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), want)
    assert np.array_equal(cifar(seed=2)([i.transpose(2, 0, 1) for i in x]), want)


def test_the_fractals_do_not_depend_on_rank_or_worker():
    pics = cifar(seed=5)._aug.pictures()
    assert cifar(seed=5, rank=3)._aug.pictures() == pics
    assert cifar(seed=5, worker=2)._aug.pictures() == pics
    assert cifar(seed=6)._aug.pictures() != pics


def test_workers_draw_distinct_reproducible_streams():
    x = batch()
    w0, w1 = cifar(seed=1, worker=0)(x), cifar(seed=1, worker=1)(x)
    plain, rank0 = cifar(seed=1)(x), cifar(seed=1, rank=0)(x)
    for a, b in [(w0, w1), (w0, plain), (w0, rank0), (w1, rank0)]:
        assert not np.array_equal(a, b)
    assert np.array_equal(cifar(seed=1, worker=1)(x), w1)


def fake_worker_info(worker_id):
    """Makes this process look like torch DataLoader worker `worker_id`."""
    data = types.ModuleType("torch.utils.data")
    data.get_worker_info = lambda: types.SimpleNamespace(id=worker_id)
    sys.modules["torch.utils.data"] = data


def test_a_dataloader_worker_is_found_at_the_first_batch(monkeypatch):
    x = batch()
    aug, given = cifar(seed=1), cifar(seed=1, threads=2)
    assert aug._aug.threads is None
    monkeypatch.setitem(sys.modules, "torch.utils.data", None)
    fake_worker_info(3)
    assert np.array_equal(aug(x), cifar(seed=1, worker=3)(x))
    assert aug._aug.threads == 1, "a worker runs on one thread"
    given(x)
    assert given._aug.threads == 2, "unless told otherwise"


def test_pickling_keeps_settings_seed_position_and_pictures():
    x = batch()
    a = cifar(seed=7, size=28, severity=2, layout="NHWC", rank=1)
    a(x)
    b = pickle.loads(pickle.dumps(a))
    assert b.position == a.position == 4 and b.size == 28 and b.layout == "NHWC"
    assert b._aug.pictures() == a._aug.pictures()
    assert np.array_equal(b(x), a(x))
    # The carried pictures are the ones a new augmenter renders.
    c = cifar(seed=7, size=28, severity=2, layout="NHWC", rank=1)
    c.position = 8
    assert np.array_equal(c(x), b(x))


def run_in_child(blob, x, worker):
    """In a fresh process: unpickle an augmenter and augment `x`, as a worker would."""
    if worker is not None:
        fake_worker_info(worker)
    aug = pickle.loads(blob)
    return aug(x), aug.position


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_augmenters_travel_to_spawned_and_forkserver_workers(method):
    if method not in mp.get_all_start_methods():
        pytest.skip(f"no {method} here")
    x = batch()
    aug = cifar(seed=9)
    aug(x)
    blob = pickle.dumps(aug)
    with mp.get_context(method).Pool(1) as pool:
        out, position = pool.apply(run_in_child, (blob, x, None))
        as_worker, _ = pool.apply(run_in_child, (blob, x, 2))
    assert position == 8 and np.array_equal(out, aug(x))
    twin = cifar(seed=9, worker=2)
    twin.position = 4
    assert np.array_equal(as_worker, twin(x))


def fork_child(aug, x, queue):
    queue.put((aug(x), aug.position))


def test_a_forked_child_of_a_process_that_used_it_does_not_hang():
    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork here")
    x = batch(8)
    aug = cifar(seed=11)
    aug(x)  # the parent's thread pool is running
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=fork_child, args=(aug, x, queue))
    child.start()
    out, position = queue.get(timeout=120)  # a hang fails here instead of stalling CI
    child.join(timeout=120)
    assert child.exitcode == 0 and position == 16
    assert np.array_equal(out, aug(x))


def test_threads_take_turns():
    x = batch()
    aug = cifar(seed=12)
    errors, outs = [], []

    def work():
        try:
            for _ in range(3):
                outs.append(aug(x))
        except Exception as e:  # noqa: BLE001 - any error fails the test below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and aug.position == 4 * 3 * 4
    # Every batch is one of the stream's twelve, each drawn once.
    ref = cifar(seed=12)
    want = [ref(x) for _ in range(12)]
    assert sorted(next(i for i, w in enumerate(want) if np.array_equal(o, w)) for o in outs) \
        == list(range(12))


def test_the_transform_augments_one_sample():
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(40, 50), (33, 36)]]
    t = pixmix.Transform(preset="cifar", fractals=3, seed=4, progress=False)
    samples = [t(images[0]), t(images[1].transpose(2, 0, 1))]
    assert samples[0].shape == (3, 32, 32) and samples[0].dtype == np.float32
    ref = cifar(seed=4)
    assert np.array_equal(samples[0], ref([images[0]])[0])
    assert np.array_equal(samples[1], ref([images[1]])[0])
    assert t.sample(images[0], dtype="f16").dtype == np.float16
    assert t.batch(batch()).shape == (4, 3, 32, 32)
    assert "pixmix.Transform(" in repr(t)
    assert pickle.loads(pickle.dumps(t)).position == t.position
    with pytest.raises(ValueError, match="H x W x 3"):
        t(np.zeros((4, 4), np.uint8))


def test_the_transform_takes_pil_images():
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (36, 40, 3), dtype=np.uint8)
    t = pixmix.Transform(preset="cifar", fractals=3, seed=4, progress=False)
    got = t(Image.fromarray(pixels).convert("RGBA"))
    assert np.array_equal(got, cifar(seed=4)([pixels])[0])


def test_the_package_is_typed():
    import pathlib

    root = pathlib.Path(pixmix.__file__).parent
    assert (root / "py.typed").is_file()
    stub = (root / "__init__.pyi").read_text()
    for name in pixmix.__all__:
        assert name in stub
    assert "def __init__(" in stub and "normalize: bool" in stub
