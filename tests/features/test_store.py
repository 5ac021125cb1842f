import json

import numpy as np
import pandas as pd
import pytest

from features import StoreError, open_store, write_store


def numpy_only_store(path, n_per_class=4, frames=5, dims=None):
    """A store written by hand with numpy and the csv/json modules, as docs/guide/feature-store.md describes."""
    dims = dims or {"visual": 6, "audio": 4}
    classes = ["Anger", "Joy"]
    path.mkdir()
    ids = [f"{c}/v{i}" for c in classes for i in range(n_per_class)]
    labels = [c for c in classes for _ in range(n_per_class)]
    rng = np.random.default_rng(0)
    for m, d in dims.items():
        np.save(path / f"{m}.npy", rng.standard_normal((len(ids), frames, d)).astype(np.float32))
    pd.DataFrame({"id": ids, "label": labels}).to_csv(path / "index.csv", index=False)
    meta = {
        "format": "bench-features/1",
        "name": "handmade",
        "classes": classes,
        "frames": frames,
        "modalities": {m: {"dim": d} for m, d in dims.items()},
    }
    (path / "meta.json").write_text(json.dumps(meta))
    return path


def test_numpy_written_store_opens_memory_mapped(tmp_path):
    store = open_store(numpy_only_store(tmp_path / "s"))
    assert len(store) == 8 and store.dims == {"visual": 6, "audio": 4}
    assert isinstance(store.arrays["visual"], np.memmap)
    assert list(store.labels) == [0] * 4 + [1] * 4


def test_write_store_round_trip(tmp_path):
    arrays = {"visual": np.ones((6, 3, 4), np.float16)}
    masks = {"visual": np.array([[True, False, True]] * 6)}
    write_store(
        tmp_path / "s",
        name="rt",
        classes=["a", "b"],
        ids=[f"x{i}" for i in range(6)],
        labels=["a", "b"] * 3,
        arrays=arrays,
        masks=masks,
    )
    store = open_store(tmp_path / "s")
    assert store.name == "rt" and store.frames == 3
    np.testing.assert_array_equal(store.masks["visual"], masks["visual"])


def _corrupt(path, how):
    if how == "missing array":
        (path / "audio.npy").unlink()
        return "audio.npy", "missing"
    if how == "wrong dim":
        np.save(path / "audio.npy", np.zeros((8, 5, 3), np.float32))
        return "audio.npy", "feature dim 3"
    if how == "wrong frames":
        np.save(path / "audio.npy", np.zeros((8, 7, 4), np.float32))
        return "audio.npy", "7 frames"
    if how == "wrong ndim":
        np.save(path / "audio.npy", np.zeros((8, 20), np.float32))
        return "audio.npy", "2 dimensions"
    if how == "N mismatch":
        np.save(path / "audio.npy", np.zeros((9, 5, 4), np.float32))
        return "audio.npy", "9 videos but index.csv lists 8"
    if how == "unknown label":
        index = pd.read_csv(path / "index.csv")
        index.loc[0, "label"] = "Angry"
        index.to_csv(path / "index.csv", index=False)
        return "index.csv", "'Angry' is not in meta.json"
    if how == "nan":
        a = np.load(path / "visual.npy")
        a[2, 1, 3] = np.nan
        np.save(path / "visual.npy", a)
        return "visual.npy", "1 NaN or infinite"
    if how == "inf":
        a = np.load(path / "visual.npy")
        a[0, 0, 0] = np.inf
        np.save(path / "visual.npy", a)
        return "visual.npy", "NaN or infinite"
    if how == "duplicate id":
        index = pd.read_csv(path / "index.csv")
        index.loc[1, "id"] = index.loc[0, "id"]
        index.to_csv(path / "index.csv", index=False)
        return "index.csv", "duplicate id 'Anger/v0'"
    if how == "bad mask":
        np.save(path / "visual.mask.npy", np.ones((8, 4), bool))
        return "visual.mask.npy", "shape [8, 4]"
    if how == "bad format":
        meta = json.loads((path / "meta.json").read_text())
        meta["format"] = "other/2"
        (path / "meta.json").write_text(json.dumps(meta))
        return "meta.json", "format is 'other/2'"
    if how == "int array":
        np.save(path / "audio.npy", np.zeros((8, 5, 4), np.int64))
        return "audio.npy", "dtype is int64"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "missing array",
        "wrong dim",
        "wrong frames",
        "wrong ndim",
        "N mismatch",
        "unknown label",
        "nan",
        "inf",
        "duplicate id",
        "bad mask",
        "bad format",
        "int array",
    ],
)
def test_invalid_store_names_file_and_problem(tmp_path, how):
    path = numpy_only_store(tmp_path / "s")
    file, problem = _corrupt(path, how)
    with pytest.raises(StoreError) as info:
        open_store(path)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.file.name == file
    assert problem in message


def test_fingerprint_is_stable_cached_and_tracks_content(tmp_path):
    path = numpy_only_store(tmp_path / "s")
    first = open_store(path).fingerprint
    assert open_store(path).fingerprint == first
    assert (path / ".bench-cache.json").exists()
    a = np.load(path / "visual.npy")
    a[0, 0, 0] += 1.0
    np.save(path / "visual.npy", a)
    assert open_store(path).fingerprint != first


def test_nan_check_is_not_fooled_by_cache(tmp_path):
    path = numpy_only_store(tmp_path / "s")
    open_store(path)  # caches "no non-finite values"
    _corrupt(path, "nan")
    with pytest.raises(StoreError, match="NaN"):
        open_store(path)
