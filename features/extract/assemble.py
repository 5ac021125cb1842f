"""Parts -> the feature store (format ``bench-features/1``) plus ``failures.csv``."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np

from features.extract.parts import Parts
from features.extract.sources import Video
from features.store import META_FILE, array_file, mask_file, write_index, write_meta

FAILURES_FILE = "failures.csv"
#: Modality -> (Part field, Part mask field or None).
FIELDS = {"visual": ("visual", None), "audio": ("audio", "audio_mask"), "skeleton": ("skeleton", "skeleton_mask")}


def content_digest(name: str, ok: list[Video], failed: list[tuple[Video, str]]) -> str:
    """What the store holds: its name, which videos were extracted and which failed (and why)."""
    payload = json.dumps([name, [v.id for v in ok], [[v.id, r] for v, r in failed]])
    return hashlib.sha1(payload.encode()).hexdigest()


def is_current(out: Path, digest: str) -> bool:
    try:
        meta = json.loads((out / META_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return meta.get("extraction", {}).get("content") == digest


def assemble(
    out: Path,
    *,
    parts: Parts,
    ok: list[Video],
    failed: list[tuple[Video, str]],
    root: Path,
    name: str,
    classes: list[str],
    frames: int,
    modality_info: dict[str, dict],
    extraction: dict,
    protocol: dict | None = None,
) -> None:
    """Write arrays, index.csv, failures.csv, then meta.json last: a store with meta.json is complete."""
    (out / META_FILE).unlink(missing_ok=True)
    _write_failures(out / FAILURES_FILE, failed)
    n = len(ok)
    arrays, masks = {}, {}
    for modality, (_, mask_field) in FIELDS.items():
        dim = modality_info[modality]["dim"]
        arrays[modality] = np.lib.format.open_memmap(
            out / array_file(modality), mode="w+", dtype=np.float32, shape=(n, frames, dim)
        )
        if mask_field:
            masks[modality] = np.lib.format.open_memmap(
                out / mask_file(modality), mode="w+", dtype=bool, shape=(n, frames)
            )
    infos = []
    for row, video in enumerate(ok):
        part = parts.load(video)
        for modality, (field, mask_field) in FIELDS.items():
            arrays[modality][row] = getattr(part, field)
            if mask_field:
                masks[modality][row] = getattr(part, mask_field)
        infos.append(part.info)
    for array in (*arrays.values(), *masks.values()):
        array.flush()
    del arrays, masks
    write_index(
        out,
        [v.id for v in ok],
        [v.label for v in ok],
        {
            "source": [_relative(v.path, root) for v in ok],
            "duration_s": [i.get("duration_s") for i in infos],
            "audio_stream": [i.get("audio_stream") for i in infos],
            "audio_error": [i.get("audio_error", "") for i in infos],
        },
    )
    modalities = {
        m: {"dim": info["dim"], **{k: v for k, v in info.items() if k != "dim"}} for m, info in modality_info.items()
    }
    write_meta(
        out,
        name=name,
        classes=classes,
        frames=frames,
        modalities=modalities,
        extra={
            "extraction": {
                **extraction,
                "videos": n,
                "failed": len(failed),
                "content": content_digest(name, ok, failed),
            },
            **({"protocol": protocol} if protocol else {}),
        },
    )


def _write_failures(path: Path, failed: list[tuple[Video, str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label", "path", "reason"])
        for video, reason in failed:
            writer.writerow([video.id, video.label, str(video.path), reason])


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
