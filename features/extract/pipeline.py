"""``bench extract`` end to end: plan, extract in parallel with resumable parts, assemble the store.

A re-run extracts only what is missing: finished videos have a part, videos that failed before are
skipped unless ``retry_failed`` (or ``strict``), and when nothing changed the store is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.params import ParamError, check_choice, check_int, resolve_device
from features.extract.assemble import FAILURES_FILE, assemble, content_digest, is_current
from features.extract.decode import AUDIO_RATE, MAX_SIDE, SAMPLING_RULE
from features.extract.parts import PARTS_DIR, Part, Parts
from features.extract.sources import Video, discover
from features.extract.weights import Weights, resolve_audio, resolve_visual
from features.extract.worker import Extractors, Settings, attempt, init_worker, native_stderr_to, run_in_worker
from features.store import META_FILE

STAGES = ("decode", "visual", "audio", "skeleton")
NATIVE_LOG = "native.log"  # C++ libraries' log lines (mediapipe, TFLite), kept out of the terminal


class ExtractFailed(Exception):
    """--strict and a video could not be extracted."""


@dataclass
class Outcome:
    out: Path
    total: int
    extracted: int = 0
    reused: int = 0
    failed: list[tuple[Video, str]] = field(default_factory=list)
    failed_now: int = 0
    skipped_failed: int = 0
    assembled: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # mean seconds per video and stage, this run
    random: list[str] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)


def default_workers() -> int:
    """Half the cores, at most 4: torch already spreads one video's batch over several threads."""
    return max(1, min(4, (os.cpu_count() or 1) // 2))


def extract(
    videos_dir: Path,
    out: Path,
    *,
    manifest: Path | None = None,
    frames: int = 100,
    workers: int | None = None,
    device: str = "auto",
    visual_weights: str = "timm",
    audio_weights: str = "download",
    strict: bool = False,
    retry_failed: bool = False,
    name: str | None = None,
    batch_size: int = 32,
    audio_last_window: str = "zero-padded",
    progress: ProgressFactory | None = None,
    say: Callable[[str], None] = print,
) -> Outcome:
    check_int("--frames", frames, low=1)
    workers = check_int("--workers", workers if workers is not None else default_workers(), low=1)
    videos_dir, out = Path(videos_dir), Path(out)
    sources = discover(videos_dir, manifest)
    if (out / META_FILE).exists() and not (out / PARTS_DIR).is_dir():
        raise ParamError(
            f"--out {out} already holds a feature store that bench extract did not write; choose another folder"
        )
    device = resolve_device(device)
    from features.extract.audio import DROPPED, LAST_WINDOW

    check_choice("--audio-last-window", audio_last_window, LAST_WINDOW)
    visual, audio = resolve_visual(visual_weights), resolve_audio(audio_weights)
    parts = Parts(out)
    parts.prepare(
        {
            "frames": frames,
            "sampling": SAMPLING_RULE,
            "max_side": MAX_SIDE,
            "audio_rate": AUDIO_RATE,
            "visual_weights": visual.meta_value,
            "audio_weights": audio.meta_value,
            "audio_last_window": audio_last_window,
        },
        legacy={"audio_last_window": DROPPED},
    )  # parts made before the setting existed dropped it

    outcome = Outcome(
        out=out,
        total=len(sources.videos),
        ignored=sources.ignored,
        random=[m for m, w in (("visual", visual), ("audio", audio)) if w.is_random],
    )
    todo = []
    for video in sources.videos:
        if parts.done(video):
            outcome.reused += 1
        elif parts.failure(video) is not None and not (retry_failed or strict):
            outcome.skipped_failed += 1
        else:
            todo.append(video)
    say(
        f"{len(sources.videos)} videos in {len(sources.classes)} classes: {len(todo)} to extract, "
        f"{outcome.reused} already extracted, {outcome.skipped_failed} failed before"
        + (" (skipped; --retry-failed tries them again)" if outcome.skipped_failed else "")
    )
    if not todo:
        say(f"nothing to extract: every video in {videos_dir} is already in {out}")
    else:
        settings = Settings(
            frames=frames,
            device=device,
            visual=visual,
            audio=audio,
            batch_size=batch_size,
            threads=max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None,
            native_log=parts.dir / NATIVE_LOG,
            audio_last_window=audio_last_window,
        )
        _run(todo, parts, settings, workers, strict, outcome, progress or _no_progress)

    ok = [v for v in sources.videos if parts.done(v)]
    outcome.failed = [
        (v, reason) for v in sources.videos if not parts.done(v) and (reason := parts.failure(v)) is not None
    ]
    name = name or videos_dir.resolve().name
    if not is_current(out, content_digest(name, ok, outcome.failed)):
        modality_info = _modality_info(visual, audio, audio_last_window)
        assemble(
            out,
            parts=parts,
            ok=ok,
            failed=outcome.failed,
            root=videos_dir,
            name=name,
            classes=sources.classes,
            frames=frames,
            modality_info=modality_info,
            protocol=_protocol_kept(out),
            extraction={
                "tool": "bench extract",
                "ver_bench": _version(),
                "frames": frames,
                "sampling": SAMPLING_RULE,
                "max_side": MAX_SIDE,
                "audio_rate": AUDIO_RATE,
                "device": device,
                "source": str(manifest if manifest else videos_dir),
                "failures": FAILURES_FILE,
            },
        )
        outcome.assembled = True
    from features.store import MIN_VIDEOS_PER_CLASS, open_store
    from features.validate import small_classes

    small = small_classes(open_store(out))  # the store must be usable as written
    if small:
        listed = ", ".join(f"{cls!r} ({n})" for cls, n in small)
        message = (
            f"classes with fewer than {MIN_VIDEOS_PER_CLASS} usable videos: {listed}; `bench run` needs at least "
            f"{MIN_VIDEOS_PER_CLASS} per class to split the store (add videos, or leave the class out)"
        )
        if strict:
            raise ExtractFailed(message + " (--strict)")
        say(f"[yellow]warning: {message}[/yellow]")
    return outcome


def _protocol_kept(out: Path) -> dict:
    """The protocol the store declared before this assembly (``bench extract --split-files`` earlier),
    else the default declared explicitly: a new store says how it is evaluated."""
    import json

    from features.protocol import PROTOCOL_KEY, random_declaration

    try:
        return json.loads((out / META_FILE).read_text())[PROTOCOL_KEY]
    except (OSError, ValueError, KeyError, TypeError):
        return random_declaration()


def _run(
    todo: list[Video], parts: Parts, settings: Settings, workers: int, strict: bool, outcome: Outcome, progress
) -> None:
    totals = {s: 0.0 for s in STAGES}

    def handle(video: Video, part: Part | None, reason: str | None) -> None:
        if part is not None:
            parts.save(video, part)
            outcome.extracted += 1
            for stage, seconds in part.info.get("seconds", {}).items():
                totals[stage] += seconds
            return
        parts.save_failure(video, reason or "unknown error")
        outcome.failed_now += 1
        if strict:
            raise ExtractFailed(f"{video.id}: {reason} (--strict stops at the first video that cannot be extracted)")

    with progress(len(todo)) as advance:
        if workers == 1:
            extractors = Extractors(settings)
            for video in todo:
                with native_stderr_to(settings.native_log):
                    part, reason = attempt(extractors, video)
                handle(video, part, reason)
                advance(video, reason)
        else:
            _run_pool(todo, settings, workers, handle, advance)
    if outcome.extracted:
        outcome.seconds = {s: totals[s] / outcome.extracted for s in STAGES}


def _run_pool(todo: list[Video], settings: Settings, workers: int, handle, advance) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")  # fork is unsafe with torch's and mediapipe's threads
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(todo)), mp_context=context, initializer=init_worker, initargs=(settings,)
    )
    try:
        futures = [pool.submit(run_in_worker, video) for video in todo]
        for future in as_completed(futures):
            video, part, reason, setup_error = future.result()
            if setup_error:
                raise ParamError(setup_error)
            handle(video, part, reason)
            advance(video, reason)
    except BrokenProcessPool:
        raise ExtractFailed(
            "a worker process died (out of memory, or a crash inside a decoder or extractor); finished videos are "
            "kept: run the same command again to resume, with --workers 1 to see which video it is"
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _NoProgress:
    def __init__(self, total: int):
        self.total = total

    def __enter__(self):
        return lambda video, reason: None

    def __exit__(self, *exc) -> None:
        return None


ProgressFactory = Callable[[int], object]
_no_progress = _NoProgress


def _modality_info(visual: Weights, audio: Weights, audio_last_window: str = "zero-padded") -> dict[str, dict]:
    from features.extract.audio import VGGishFeatures
    from features.extract.skeleton import PoseFeatures
    from features.extract.visual import SwinFeatures

    return {
        "visual": {"dim": SwinFeatures.dim, **SwinFeatures.info(), **visual.describe()},
        "audio": {"dim": VGGishFeatures.dim, **VGGishFeatures.info(audio_last_window), **audio.describe()},
        "skeleton": {"dim": PoseFeatures.dim, **PoseFeatures.info()},
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ver-bench")
    except PackageNotFoundError:
        return "unknown"
