"""The evaluation protocol's splits (paper section 3.2; docs/architecture.md, "Protocol").

Split k takes, in every class, a seeded random 2/3 of the videos for training and the rest for
testing; the seed comes from (dataset fingerprint, k), so the same store always gives the same
splits on every machine. Official UCF101-style split files can be given instead. Which of the two a
store uses (and how many, which fraction) is its protocol: :mod:`benchmark.protocol`.
"""

from __future__ import annotations

import hashlib
import math
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


def random_source(train_fraction: float = TRAIN_FRACTION) -> str:
    """The split source of seeded stratified splits: ``random-stratified-2/3`` for the default fraction."""
    return (
        "random-stratified-2/3"
        if math.isclose(train_fraction, TRAIN_FRACTION)
        else f"random-stratified-{train_fraction:.4g}"
    )


def random_splits(
    labels: np.ndarray,
    dataset_fingerprint: str,
    n_splits: int = 10,
    classes: list[str] | None = None,
    train_fraction: float = TRAIN_FRACTION,
) -> list[Split]:
    check_int("n_splits", n_splits, low=1)
    if check_float("train fraction", train_fraction, low=0.0, open_low=True) >= 1.0:
        raise ParamError(f"train fraction must be < 1, got {train_fraction!r}")
    check_class_sizes(labels, classes)
    splits = []
    for k in range(n_splits):
        splitter = StratifiedShuffleSplit(
            n_splits=1, train_size=train_fraction, random_state=split_seed(dataset_fingerprint, k)
        )
        train, test = next(splitter.split(np.zeros(len(labels)), labels))
        splits.append(Split(k, np.sort(train), np.sort(test), random_source(train_fraction)))
    return splits


def check_class_sizes(labels: np.ndarray, classes: list[str] | None = None) -> None:
    """Every class needs ``MIN_VIDEOS_PER_CLASS`` videos to be split into train and test."""
    from features.store import MIN_VIDEOS_PER_CLASS

    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes or []))
    for label, count in enumerate(counts):
        if count < MIN_VIDEOS_PER_CLASS:
            name = classes[label] if classes else f"#{label}"
            raise ParamError(
                f"class {name!r} has {count} videos; each class needs at least {MIN_VIDEOS_PER_CLASS} to be split into "
                "train and test (add videos to it or leave it out of the store)"
            )


def validation_part(train: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Carve a stratified validation part out of a split's training positions (for tuning)."""
    check_float("validation fraction", fraction, low=0.0, high=1.0, open_low=True)
    fit, val = train_test_split(train, test_size=fraction, stratify=labels[train], random_state=seed)
    return np.sort(fit), np.sort(val)


_LIST = re.compile(r"^(train|test)list(\d+)\.txt$")


def file_splits(
    directory: str | Path,
    ids: np.ndarray,
    labels: list[str],
    n_splits: int | None = None,
    video_classes: list[str] | None = None,
) -> list[Split]:
    """Splits from ``trainlistNN.txt`` / ``testlistNN.txt`` (lines ``Class/name [index]``).

    Entries match store ids with or without the file extension, or by file stem when the store's ids
    carry no class folder. ``classInd.txt``, when present, must name the store's classes. With
    ``video_classes`` (the class name of each store video) an entry's class folder must agree with the
    store, and every list must cover every class. An empty list and a line listed twice are errors.
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
    resolver = _IdResolver(ids, video_classes)
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
    def __init__(self, ids: np.ndarray, video_classes: list[str] | None = None):
        self.ids = ids
        self.video_classes = video_classes
        self.exact = {str(i): pos for pos, i in enumerate(ids)}
        stems: dict[str, list[int]] = {}
        for pos, i in enumerate(ids):
            stems.setdefault(_strip_ext(str(i)).rsplit("/", 1)[-1], []).append(pos)
        self.stems = stems

    def positions(self, path: Path) -> np.ndarray:
        found: list[int] = []
        missing: list[str] = []
        lines: dict[int, int] = {}
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            entry = parts[0].replace("\\", "/")
            pos = self.exact.get(entry, self.exact.get(_strip_ext(entry)))
            if pos is None:
                candidates = self.stems.get(_strip_ext(entry).rsplit("/", 1)[-1], [])
                pos = candidates[0] if len(candidates) == 1 else None
            if pos is None:
                missing.append(entry)
                continue
            if pos in lines:
                raise ParamError(f"{path}:{number}: {entry!r} is listed twice (also on line {lines[pos]})")
            lines[pos] = number
            self._check_class(path, number, entry, pos)
            found.append(pos)
        if missing:
            raise ParamError(f"{path}: {len(missing)} entries match no video id in the store, first {missing[0]!r}")
        if not found:
            raise ParamError(f"{path}: lists no video (the file is empty)")
        self._check_coverage(path, found)
        return np.asarray(found, dtype=np.int64)

    def _check_class(self, path: Path, number: int, entry: str, pos: int) -> None:
        if self.video_classes is None or "/" not in entry:
            return
        folder, actual = entry.rsplit("/", 1)[0].rsplit("/", 1)[-1], self.video_classes[pos]
        if folder != actual:
            raise ParamError(
                f"{path}:{number}: {entry!r} is in class folder {folder!r} but the store's video {self.ids[pos]!r} "
                f"is {actual!r}"
            )

    def _check_coverage(self, path: Path, found: list[int]) -> None:
        if self.video_classes is None:
            return
        listed = {self.video_classes[pos] for pos in found}
        absent = [c for c in dict.fromkeys(self.video_classes) if c not in listed]
        if absent:
            raise ParamError(
                f"{path}: no video of class {absent[0]!r} ({len(absent)} of the store's classes are missing); every "
                "list must cover every class"
            )


def _strip_ext(entry: str) -> str:
    head, _, tail = entry.rpartition("/")
    stem = tail.rsplit(".", 1)[0] if "." in tail else tail
    return f"{head}/{stem}" if head else stem
