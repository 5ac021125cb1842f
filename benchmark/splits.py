"""The evaluation protocol's splits (paper section 3.2, DESIGN section 4).

Split k takes, in every class, a seeded random 2/3 of the videos for training and the rest for
testing; the seed comes from (dataset fingerprint, k), so the same store always gives the same
splits on every machine. Official UCF101-style split files can be given instead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split

from benchmark.params import ParamError, check_float, check_int

TRAIN_FRACTION = 2 / 3


@dataclass(frozen=True)
class Split:
    """Positions into the store's arrays; ``source`` says where the split came from."""

    index: int
    train: np.ndarray
    test: np.ndarray
    source: str

    def ids(self, ids: np.ndarray) -> dict[str, list[str]]:
        return {"train": [str(i) for i in ids[self.train]], "test": [str(i) for i in ids[self.test]]}

    def digest(self, ids: np.ndarray) -> str:
        """Hash of the split's content (which ids train, which test)."""
        h = hashlib.sha256()
        for part in (self.train, self.test):
            h.update("\n".join(sorted(map(str, ids[part]))).encode() + b"\0")
        return h.hexdigest()[:16]


def split_seed(dataset_fingerprint: str, k: int) -> int:
    return int(hashlib.sha256(f"{dataset_fingerprint}:split:{k}".encode()).hexdigest()[:8], 16)


def random_splits(labels: np.ndarray, dataset_fingerprint: str, n_splits: int = 10) -> list[Split]:
    check_int("n_splits", n_splits, low=1)
    splits = []
    for k in range(n_splits):
        splitter = StratifiedShuffleSplit(n_splits=1, train_size=TRAIN_FRACTION, random_state=split_seed(dataset_fingerprint, k))
        train, test = next(splitter.split(np.zeros(len(labels)), labels))
        splits.append(Split(k, np.sort(train), np.sort(test), "random-stratified-2/3"))
    return splits


def validation_part(train: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Carve a stratified validation part out of a split's training positions (for tuning)."""
    check_float("validation fraction", fraction, low=0.0, high=1.0, open_low=True)
    fit, val = train_test_split(train, test_size=fraction, stratify=labels[train], random_state=seed)
    return np.sort(fit), np.sort(val)


_LIST = re.compile(r"^(train|test)list(\d+)\.txt$")


def file_splits(directory: str | Path, ids: np.ndarray, labels: list[str], n_splits: int | None = None) -> list[Split]:
    """Splits from ``trainlistNN.txt`` / ``testlistNN.txt`` (lines ``Class/name [index]``).

    Entries match store ids with or without the file extension, or by file stem when the store's ids
    carry no class folder. ``classInd.txt``, when present, must name the store's classes.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ParamError(f"--split-files {directory}: not a directory")
    lists: dict[str, dict[str, Path]] = {}
    for path in directory.iterdir():
        match = _LIST.match(path.name)
        if match:
            lists.setdefault(match.group(2), {})[match.group(1)] = path
    numbers = sorted(lists, key=int)
    if not numbers:
        raise ParamError(f"{directory}: no trainlistNN.txt / testlistNN.txt files")
    for number in numbers:
        for part in ("train", "test"):
            if part not in lists[number]:
                raise ParamError(f"{directory}: {part}list{number}.txt is missing (its pair exists)")
    class_ind = directory / "classInd.txt"
    if class_ind.exists():
        _check_class_ind(class_ind, set(labels))
    resolver = _IdResolver(ids)
    splits = []
    for k, number in enumerate(numbers[: n_splits or None]):
        train = resolver.positions(lists[number]["train"])
        test = resolver.positions(lists[number]["test"])
        overlap = set(train) & set(test)
        if overlap:
            raise ParamError(f"{lists[number]['test']}: {len(overlap)} videos are also in trainlist{number}.txt")
        splits.append(Split(k, np.sort(train), np.sort(test), f"files:{directory.name}/{number}"))
    return splits


def _check_class_ind(path: Path, store_classes: set[str]) -> None:
    names = set()
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts:
            names.add(parts[-1])
    missing = names - store_classes
    if missing:
        raise ParamError(f"{path}: class {sorted(missing)[0]!r} is not a class of the store")


class _IdResolver:
    def __init__(self, ids: np.ndarray):
        self.exact = {str(i): pos for pos, i in enumerate(ids)}
        stems: dict[str, list[int]] = {}
        for pos, i in enumerate(ids):
            stems.setdefault(_strip_ext(str(i)).rsplit("/", 1)[-1], []).append(pos)
        self.stems = stems

    def positions(self, path: Path) -> np.ndarray:
        found, missing = [], []
        for line in path.read_text().splitlines():
            parts = line.split()
            if not parts:
                continue
            entry = parts[0].replace("\\", "/")
            pos = self.exact.get(entry, self.exact.get(_strip_ext(entry)))
            if pos is None:
                candidates = self.stems.get(_strip_ext(entry).rsplit("/", 1)[-1], [])
                pos = candidates[0] if len(candidates) == 1 else None
            (found if pos is not None else missing).append(pos if pos is not None else entry)
        if missing:
            raise ParamError(f"{path}: {len(missing)} entries match no video id in the store, first {missing[0]!r}")
        return np.asarray(found, dtype=np.int64)


def _strip_ext(entry: str) -> str:
    head, _, tail = entry.rpartition("/")
    stem = tail.rsplit(".", 1)[0] if "." in tail else tail
    return f"{head}/{stem}" if head else stem
