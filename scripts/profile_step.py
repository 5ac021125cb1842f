"""Where a training step's time goes: ``torch.profiler`` over a few steps of a ``bench perf`` loop.

    PYTHONPATH=. python scripts/profile_step.py --profile paper --precision fp32 --steps 3
    PYTHONPATH=. python scripts/profile_step.py --profile quick --engine vectorised --splits 10

Builds the loop exactly as ``bench perf`` times it (same random data, model, optimiser and step),
runs ``--warmup`` untimed steps, then profiles ``--steps`` steps and prints the operators by self
CPU time as a Markdown table (``docs/measurements.md`` carries these tables), with the wall time per
step measured outside the profiler beside it.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="paper", choices=["paper", "quick"])
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--engine", default="plain", choices=["plain", "vectorised", "reference"])
    parser.add_argument("--splits", type=int, default=2, help="Splits of the vectorised engine.")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rows", type=int, default=12, help="Operators shown.")
    args = parser.parse_args()

    import torch
    from torch.profiler import ProfilerActivity, profile

    from benchmark.perf.measure import PerfSetup, prepare

    setup = PerfSetup("cpu", splits=args.splits, profile=args.profile, precision=args.precision)
    loop = prepare(setup).loop(args.engine, args.precision)
    loop.run_steps(args.warmup)
    start = time.perf_counter()
    loop.run_steps(args.steps)
    wall = (time.perf_counter() - start) / args.steps
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        loop.run_steps(args.steps)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    print(
        f"{args.engine} {args.precision}, profile {args.profile}, {torch.get_num_threads()} threads: "
        f"{wall * 1000:.0f} ms per step unprofiled, {total / 1000 / args.steps:.0f} ms self CPU per step profiled"
    )
    print("| operator | self CPU % | self CPU ms per step | calls per step |")
    print("| --- | --- | --- | --- |")
    for e in events[: args.rows]:
        print(
            f"| `{e.key}` | {100 * e.self_cpu_time_total / total:.1f} | "
            f"{e.self_cpu_time_total / 1000 / args.steps:.1f} | {e.count / args.steps:.0f} |"
        )


if __name__ == "__main__":
    main()
