import numpy as np
import pytest

from benchmark.params import ParamError
from benchmark.splits import file_splits, random_splits, validation_part

LABELS = np.repeat(np.arange(4), [30, 12, 9, 60])


def test_each_class_is_split_two_thirds_and_parts_are_disjoint():
    for split in random_splits(LABELS, "fp", n_splits=10):
        assert not set(split.train) & set(split.test)
        assert len(split.train) + len(split.test) == len(LABELS)
        for c, n in enumerate([30, 12, 9, 60]):
            assert abs((LABELS[split.train] == c).sum() - 2 * n / 3) <= 1


def test_splits_are_deterministic_in_fingerprint_and_differ_between_k():
    a, b, c = (random_splits(LABELS, fp, 3) for fp in ("fp", "fp", "other"))
    assert all(np.array_equal(x.train, y.train) for x, y in zip(a, b))
    assert not np.array_equal(a[0].train, a[1].train)
    assert not np.array_equal(a[0].train, c[0].train)


def test_validation_part_comes_from_training_part_only():
    split = random_splits(LABELS, "fp", 1)[0]
    fit, val = validation_part(split.train, LABELS, 0.2, seed=0)
    assert set(fit) | set(val) == set(split.train)
    assert not (set(fit) | set(val)) & set(split.test)


def write_lists(tmp_path, ids, train_ids, test_ids, ext=".mp4"):
    (tmp_path / "classInd.txt").write_text("1 Anger\n2 Joy\n")
    (tmp_path / "trainlist01.txt").write_text("".join(f"{i}{ext} 1\n" for i in train_ids))
    (tmp_path / "testlist01.txt").write_text("".join(f"{i}{ext}\n" for i in test_ids))


def test_official_split_files_are_matched_to_store_ids(tmp_path):
    ids = np.array([f"Anger/a{i}" for i in range(3)] + [f"Joy/j{i}" for i in range(3)])
    write_lists(tmp_path, ids, ["Anger/a0", "Anger/a1", "Joy/j2", "Joy/j0"], ["Anger/a2", "Joy/j1"])
    (split,) = file_splits(tmp_path, ids, ["Anger", "Joy"])
    assert list(ids[split.train]) == ["Anger/a0", "Anger/a1", "Joy/j0", "Joy/j2"]
    assert list(ids[split.test]) == ["Anger/a2", "Joy/j1"]
    assert split.source.startswith("files:")


def test_split_file_entry_not_in_store_is_an_error(tmp_path):
    ids = np.array(["Anger/a0", "Joy/j0"])
    write_lists(tmp_path, ids, ["Anger/a0", "Anger/zzz"], ["Joy/j0"])
    with pytest.raises(ParamError, match=r"trainlist01\.txt: 1 entries match no video id.*Anger/zzz"):
        file_splits(tmp_path, ids, ["Anger", "Joy"])


def test_unpaired_split_file_is_an_error(tmp_path):
    (tmp_path / "trainlist02.txt").write_text("Anger/a0.mp4 1\n")
    with pytest.raises(ParamError, match=r"testlist02\.txt is missing"):
        file_splits(tmp_path, np.array(["Anger/a0"]), ["Anger"])
