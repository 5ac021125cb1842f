"""``bench perf``: training throughput of the plain reference loop and the engine, JSON last."""

from __future__ import annotations

import typer

from benchmark.commands.common import DEVICE_HELP, PRECISION_HELP, user_errors


def perf(
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    splits: int = typer.Option(10, "--splits", help="Splits the vectorised engine trains together."),
    steps: int = typer.Option(20, "--steps", help="Timed training steps per repeat."),
    warmup: int = typer.Option(
        3,
        "--warmup",
        help="Untimed steps before timing (allocation, autotuning, compilation); at least one runs, so that a loop "
        "that fails is reported apart.",
    ),
    repeats: int = typer.Option(3, "--repeats", help="Timed repeats; the median counts."),
    engine: str = typer.Option(
        "auto",
        "--engine",
        help="The engine whose rate is 'engine_samples_per_s' and projected: auto (what bench run --engine auto "
        "picks here), plain or vectorised.",
    ),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="The precision projected: "
        + PRECISION_HELP
        + " The picked loop is timed at fp32 and bf16 where bf16 is native or asked for, at fp32 alone elsewhere.",
    ),
    compile: bool = typer.Option(False, "--compile", help="torch.compile the vectorised engine."),
    profile: str = typer.Option(
        "paper", "--profile", help="Model and protocol profile (paper = the paper's model, batch 16, T = 100)."
    ),
    frames: int | None = typer.Option(None, "--frames", help="Frames per video (default: the profile's; paper 100)."),
    videos: int | None = typer.Option(
        None, "--videos", help="Videos of the random data (default: VideoEmotion-8's 1,101)."
    ),
    small: bool = typer.Option(
        False,
        "--small",
        help="Tiny dims (visual 24, audio 16, skeleton 12) for a smoke test; the figures then mean nothing.",
    ),
) -> None:
    """Training samples/s of a plain DataLoader fp32 loop vs what --engine and --precision pick, at the paper's dims;
    JSON last.

    Times (a) a DataLoader fp32 loop, one split at a time, (b) the loop --engine picks (the harness's
    plain loop, or the vectorised engine with --splits splits) at fp32 and at bf16 autocast, (c) the
    other loop at the chosen precision, and projects `bench run --suite all --profile paper`.
    """
    with user_errors():
        import json
        import statistics

        from rich.console import Console
        from rich.table import Table

        from benchmark.engine.policy import ENGINES
        from benchmark.params import check_choice, check_int, resolve_device
        from benchmark.perf.measure import PerfSetup, measure
        from benchmark.precision import check_precision

        device = resolve_device(device)
        check_choice("engine", engine, ENGINES)
        check_precision(precision)
        check_int("splits", splits, low=1)
        check_int("steps", steps, low=1)
        check_int("warmup", warmup, low=0)
        check_int("repeats", repeats, low=1)
        dims = {"visual": 24, "audio": 16, "skeleton": 12} if small else None
        setup = PerfSetup(
            device, splits, steps, warmup, repeats, engine, precision, compile, profile, frames, videos, dims
        )
        console = Console(stderr=False)
        console.print(
            f"measuring on {setup.device}: {steps} steps x {repeats} repeats after {warmup} warm-up steps, {splits} "
            "splits ..."
        )
        result = measure(setup)
        table = Table(
            title=f"Training throughput, {result['device']}, batch {result['batch_size']}, T {result['frames']}, "
            f"dims {result['dims']}",
            title_justify="left",
        )
        for column in (
            "loop",
            "samples/s (median)",
            "repeats",
            "vs reference",
            "TFLOP/s",
            "% of matmul peak",
            "peak MiB",
        ):
            table.add_column(column)
        picked = f"{result['engine']} {result['precision']}"
        for key, rates in result["rates"].items():
            label = (
                "reference (DataLoader, fp32)"
                if key == "reference"
                else key + (f" ({splits} splits)" if key.startswith("vectorised") else "")
            )
            rate, loop = statistics.median(rates), result["loops"][key]
            memory = "-" if loop["peak_memory_mib"] is None else f"{loop['peak_memory_mib']:.0f}"
            marks = [
                m
                for m, hit in (("projected: what auto trains", key == picked), ("fastest", key == result["fastest"]))
                if hit
            ]
            table.add_row(
                label + (f" <- {', '.join(marks)}" if marks else ""),
                f"{rate:.2f}",
                ", ".join(f"{r:.2f}" for r in rates),
                f"{rate / result['reference_samples_per_s']:.2f}x",
                f"{loop['tflops']:.3g}",
                f"{loop['pct_of_matmul_peak']:.1f} %",
                memory,
            )
        for key, error in result["failed"].items():
            table.add_row(key, "failed", error[:120], "", "", "", "", style="red")
        console.print(table)
        if result["bf16_samples_per_s"] is None and f"{result['engine']} bf16" not in result["failed"]:
            console.print(
                f"{result['engine']} bf16 not timed: this device emulates bf16 (matmul "
                f"{result['matmul_tflops']['bf16']:.3g} TFLOP/s "
                f"against {result['matmul_tflops']['fp32']:.3g} in fp32); --precision bf16 times it anyway"
            )
        console.print(
            f"precision {result['precision']} (--precision {precision}; native bf16: "
            f"{'yes' if result['native_bf16'] else 'no'}, "
            f"{result['mflops_per_frame']} MFLOP/frame, bf16 from {result['bf16_min_mflops_per_frame']}): "
            f"{result['precision_choice']}\n"
            f"picked {result['picked']}: {result['speedup']:.2f}x the reference, {result['picked_vs_fastest']:.2f}x "
            "the fastest loop "
            f"({result['fastest']})"
            + (
                f", {result['picked_vs_fastest_plain']:.2f}x the fastest plain loop ({result['fastest_plain']})"
                if result["fastest_plain"]
                else ""
            )
            + "\n"
            f"model FLOPs per training sample (forward + backward): {result['train_gflops_per_sample']:.3f} GFLOP; "
            "matmul peak measured here "
            f"({' x '.join(map(str, result['matmul_shape']))}): fp32 {result['matmul_tflops']['fp32']:.3g}, bf16 "
            f"{result['matmul_tflops']['bf16']:.3g} TFLOP/s; "
            f"memory: {result['memory_kind']}\n"
            f"projected `bench run --suite all --profile paper` with the {result['engine']} engine at "
            f"{result['precision']}: "
            f"{result['projected_all_paper_hours']:.2f} h ({result['projection']})"
        )
        print(json.dumps(result), flush=True)


def register(app: typer.Typer) -> None:
    app.command("perf")(perf)
