"""Dataset fingerprints and the per-store cache of expensive whole-file scans.

A fingerprint is a BLAKE2b hash of meta.json, index.csv and every array file's bytes. Hashing a
full-size store takes a second or two, so results are cached in ``STORE/.bench-cache.json`` keyed
by each file's size and modification time; any change to a file invalidates the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

CACHE_FILE = ".bench-cache.json"
_CHUNK = 1 << 24
T = TypeVar("T")


def _stat_key(path: Path, files: list[str]) -> dict[str, list[int]]:
    key = {}
    for name in files:
        stat = (path / name).stat()
        key[name] = [stat.st_size, stat.st_mtime_ns]
    return key


def cached_scan(path: Path, files: list[str], name: str, compute: Callable[[], T]) -> T:
    """Return ``compute()``, cached in the store under ``name`` while ``files`` are unchanged."""
    cache_path = path / CACHE_FILE
    key = _stat_key(path, files)
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, json.JSONDecodeError):
        cache = {}
    entry = cache.get(name)
    if isinstance(entry, dict) and entry.get("files") == key:
        return entry["value"]
    value = compute()
    cache[name] = {"files": key, "value": value}
    try:  # a read-only store still works, it just is not cached
        tmp = cache_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache))
        tmp.replace(cache_path)
    except OSError:
        pass
    return value


def hash_files(path: Path, files: list[str]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for name in files:
        digest.update(name.encode() + b"\0")
        with open(path / name, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def store_fingerprint(path: Path, files: list[str]) -> str:
    return cached_scan(path, files, "fingerprint", lambda: hash_files(path, files))
