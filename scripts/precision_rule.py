"""What ``--precision auto`` picks for every row of the built-in paper suites, and why.

    python scripts/precision_rule.py [--device cpu|cuda]

For each profile and each torch row of ``table1``-``table3``: the forward MFLOP per frame
(:func:`benchmark.precision.mflops_per_frame`, at the paper's dims) and what ``auto`` resolves to on
``--device`` of this machine on this process's torch threads (native bf16 or not,
:func:`benchmark.precision.native_bf16`, then the kept calibration, :mod:`benchmark.calibration`).
``docs/measurements.md`` quotes its output.
"""

from __future__ import annotations

import argparse

from baselines import get_model
from benchmark.auto_precision import resolve
from benchmark.config import get_profile, resolve_config
from benchmark.precision import BF16_MIN_MFLOPS_PER_FRAME, mflops_per_frame, native_bf16
from benchmark.suite import load_suite
from features.store import PAPER_DIMS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    device = parser.parse_args().device
    print(f"device {device}: native bf16 {native_bf16(device)}; bf16 from {BF16_MIN_MFLOPS_PER_FRAME} MFLOP/frame")
    print("| profile | suite | row | model | MFLOP/frame | auto | why |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for profile in ("paper", "quick"):
        for suite in ("table1", "table2", "table3"):
            for row in load_suite(suite).runnable_rows:
                if get_model(row.model).kind != "torch":
                    continue
                config = resolve_config(
                    model=row.model,
                    modalities=list(row.modalities),
                    row_params=row.params,
                    profile=get_profile(profile),
                )
                mflops = mflops_per_frame(config, PAPER_DIMS)
                chosen, why = resolve(config, "auto", device, PAPER_DIMS)
                print(
                    f"| {profile} | {suite} | {row.name} | {row.model} | {mflops:.2f} | {chosen.train.precision} | "
                    f"{why} |"
                )


if __name__ == "__main__":
    main()
