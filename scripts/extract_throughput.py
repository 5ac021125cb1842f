"""Throughput of `bench extract` on this machine: decoding and each extractor, and what that means
for VideoEmotion-8 (1,101 videos, 107 s on average).

    PYTHONPATH=. python scripts/extract_throughput.py --seconds 107 --frames 100
    PYTHONPATH=. python scripts/extract_throughput.py --video my_clip.mp4 --device cuda

Without --video it writes a synthetic clip (the moving astronaut with a tone, 640x360, 25 fps) of
--seconds. Weights default to random: speed does not depend on their values. The last line is JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import tempfile
import time
from pathlib import Path

VE8_VIDEOS = 1101
VE8_MEAN_SECONDS = 107.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, help="Clip to measure (default: a synthetic one of --seconds).")
    parser.add_argument("--seconds", type=float, default=VE8_MEAN_SECONDS, help="Length of the synthetic clip.")
    parser.add_argument("--frames", type=int, default=100, help="T, frames sampled per video.")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--repeat", type=int, default=2, help="Timed passes after one warm-up pass; the mean is shown.")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--visual-weights", default="random")
    parser.add_argument("--audio-weights", default="random")
    args = parser.parse_args()

    import torch
    from rich.console import Console
    from rich.table import Table

    from features.extract.audio import VGGishFeatures
    from features.extract.decode import decode
    from features.extract.pipeline import resolve_device
    from features.extract.visual import SwinFeatures
    from features.extract.weights import resolve_audio, resolve_visual
    from features.extract.worker import native_stderr_to

    console = Console()
    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video
        if video is None:
            from features.extract.clips import write_clip

            video = write_clip(Path(tmp) / "clip.mp4", seconds=args.seconds, fps=25, size=(640, 360))
        start = time.perf_counter()
        with native_stderr_to(Path(tmp) / "native.log"):
            swin = SwinFeatures(resolve_visual(args.visual_weights), device, args.batch_size)
            vggish = VGGishFeatures(resolve_audio(args.audio_weights), device)
            pose = None
            if importlib.util.find_spec("mediapipe") is not None:
                from features.extract.skeleton import PoseFeatures

                pose = PoseFeatures()
            else:  # a machine without mediapipe (a GPU box without internet, say): the CPU-only stage is left out
                console.print("skeleton: not measured (mediapipe is not installed; it runs on the CPU only)")
            built = time.perf_counter() - start
            decoded = decode(video, args.frames)
            timings: dict[str, list[float]] = {
                "decode": [],
                "visual": [],
                "audio": [],
                **({"skeleton": []} if pose else {}),
            }
            cpu: dict[str, list[float]] = {stage: [] for stage in timings}
            for rep in range(args.repeat + 1):
                stages = {
                    "decode": lambda: decode(video, args.frames),
                    "visual": lambda: swin(decoded.frames),
                    "audio": lambda: vggish(decoded.audio, decoded.timestamps, decoded.audio_offset),
                    "skeleton": lambda: pose(decoded.frames),
                }
                stages = {stage: run for stage, run in stages.items() if stage in timings}
                for stage, run in stages.items():
                    if device == "cuda":
                        torch.cuda.synchronize()
                    t0, c0 = time.perf_counter(), time.process_time()
                    run()
                    if device == "cuda":
                        torch.cuda.synchronize()
                    if rep:  # pass 0 warms up caches, cuDNN and the pose graph
                        timings[stage].append(time.perf_counter() - t0)
                        cpu[stage].append(time.process_time() - c0)

    gpu = torch.cuda.get_device_name(0) if device == "cuda" else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(
        f"device {device}{f' ({gpu})' if gpu else ''} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} CPU cores · torch threads {torch.get_num_threads()} · load average {load:.1f}"
    )
    console.print(
        f"clip {video.name if args.video else 'synthetic'}: {decoded.duration:.1f} s, "
        f"{decoded.frames.shape[2]}x{decoded.frames.shape[1]} after scaling, T = {args.frames}, "
        f"audio {'yes' if decoded.audio is not None else 'none'}; models built in {built:.1f} s "
        "(once per worker)"
    )
    table = Table("stage", "s / video", "videos / s", "frames / s", "CPU s / video")
    total = cpu_total = 0.0
    for stage, values in timings.items():
        seconds, cpu_seconds = sum(values) / len(values), sum(cpu[stage]) / len(cpu[stage])
        total, cpu_total = total + seconds, cpu_total + cpu_seconds
        table.add_row(
            stage, f"{seconds:.2f}", f"{1 / seconds:.2f}", f"{args.frames / seconds:.1f}", f"{cpu_seconds:.2f}"
        )
    table.add_row(
        "all", f"{total:.2f}", f"{1 / total:.3f}", f"{args.frames / total:.1f}", f"{cpu_total:.2f}", style="bold"
    )
    console.print(table)
    hours = VE8_VIDEOS * total / 3600
    console.print(
        f"VideoEmotion-8 ({VE8_VIDEOS} videos, mean {VE8_MEAN_SECONDS:.0f} s) at T = {args.frames} on this "
        f"device, one video at a time: {hours:.1f} h ({VE8_VIDEOS * total / 60:.0f} min)"
        + ("" if pose else " without the skeleton stage (not measured)")
        + (
            ""
            if args.video is None and abs(args.seconds - VE8_MEAN_SECONDS) < 1
            else " (decode time scales with video length: measure a 107 s clip for this projection)"
        )
    )
    console.print(
        f"CPU time {cpu_total:.1f} s per video (all threads of this process): on a machine shared with other "
        "work, wall time is inflated by the load average above, CPU time is not"
    )
    figures = {stage: round(sum(v) / len(v), 4) for stage, v in timings.items()}
    print(
        json.dumps(
            {
                "device": device,
                "gpu": gpu,
                "frames": args.frames,
                "clip_seconds": round(decoded.duration, 2),
                "seconds_per_video": figures,
                "skeleton_measured": pose is not None,
                "videos_per_s": round(1 / total, 4),
                "ve8_hours": round(hours, 3),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
