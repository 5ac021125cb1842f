"""Which videos to extract, with which label and id: class folders or a manifest CSV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmark.params import ParamError


@dataclass(frozen=True)
class Video:
    """One input video. ``id`` is ``Class/file name`` (UCF101 style) so official split files match it."""

    id: str
    label: str
    path: Path


@dataclass
class Sources:
    videos: list[Video]
    classes: list[str]
    ignored: list[Path]  # files directly in VIDEOS_DIR, outside any class folder


def discover(videos_dir: Path, manifest: Path | None = None) -> Sources:
    """List the videos to extract, sorted by class then id.

    Every non-hidden file counts, whatever its extension or case: whether FFmpeg can read it is
    decided when it is opened, and a file that cannot be read is reported in failures.csv rather
    than silently dropped.
    """
    videos_dir = Path(videos_dir)
    if not videos_dir.is_dir():
        raise ParamError(f"VIDEOS_DIR {videos_dir} is not a directory")
    if manifest is not None:
        return _from_manifest(videos_dir, Path(manifest))
    return _from_folders(videos_dir)


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def _from_folders(root: Path) -> Sources:
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    videos: list[Video] = []
    for class_dir in class_dirs:
        for file in sorted(class_dir.rglob("*")):
            if file.is_file() and _visible(file, class_dir):
                rel = file.relative_to(class_dir).as_posix()
                videos.append(Video(id=f"{class_dir.name}/{rel}", label=class_dir.name, path=file))
    classes = sorted({v.label for v in videos})
    if not videos:
        raise ParamError(
            f"VIDEOS_DIR {root} holds no class folders with files (expected VIDEOS_DIR/<class>/<video>, or --manifest)"
        )
    ignored = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
    return Sources(videos=videos, classes=classes, ignored=ignored)


def _from_manifest(root: Path, manifest: Path) -> Sources:
    import pandas as pd

    if not manifest.is_file():
        raise ParamError(f"--manifest {manifest} does not exist")
    try:
        frame = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ParamError(f"--manifest {manifest} cannot be parsed as CSV ({exc})") from None
    missing = {"path", "label"} - set(frame.columns)
    if missing:
        raise ParamError(f"--manifest {manifest} needs columns path,label (missing: {', '.join(sorted(missing))})")
    videos = []
    for row_number, row in enumerate(frame.itertuples(index=False), start=2):
        path, label = str(row.path).strip(), str(row.label).strip()
        if not path or not label:
            raise ParamError(f"--manifest {manifest} line {row_number}: empty path or label")
        file = Path(path) if Path(path).is_absolute() else root / path
        video_id = str(getattr(row, "id", "") or f"{label}/{Path(path).name}")
        videos.append(Video(id=video_id, label=label, path=file))
    if not videos:
        raise ParamError(f"--manifest {manifest} lists no videos")
    seen: dict[str, Video] = {}
    for video in videos:
        if video.id in seen:
            raise ParamError(
                f"--manifest {manifest}: id {video.id!r} is given to both {seen[video.id].path} and {video.path} "
                "(add an 'id' column to tell them apart)"
            )
        seen[video.id] = video
    videos.sort(key=lambda v: (v.label, v.id))
    return Sources(videos=videos, classes=sorted({v.label for v in videos}), ignored=[])
