"""bf16 autocast against fp32: the paired accuracy difference per row, over the splits both finished.

    python scripts/precision_accuracy.py --tracking-uri sqlite:///mlruns/mlflow.db [--suite precision-check]

Reads the FINISHED split runs of a suite (``bench.suite`` tag) through ``MlflowClient`` and pairs the
fp32 and bf16 runs of the same row and split whose params agree apart from ``train.precision``. Per
row and for all pairs together it prints a markdown table: mean ± std over splits of each precision,
the mean of the paired differences (bf16 - fp32, in points) with its corrected 95 % interval, their
std, and the p-values of the corrected resampled t-test (:func:`benchmark.statistics.significance.compare`,
n_test/n_train from the runs' ``n_train`` / ``n_test`` params, 1/2 for runs without them: the 2/3
protocol) and of the plain paired t-test. ``docs/measurements.md`` quotes its output.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from benchmark import tracking
from benchmark.statistics.significance import compare

RATIOS: list[float] = []  # n_test/n_train of the runs read (for the correction)


def split_accuracies(uri: str, experiment: str, suite: str) -> dict[tuple[str, str, tuple], dict[int, float]]:
    """(row, precision, other params) -> {split: test accuracy} of the suite's FINISHED split runs."""
    client = tracking.client(uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise SystemExit(f"error: no experiment {experiment!r} at {uri}")
    query = f"tags.`{tracking.TAG}kind` = '{tracking.SPLIT}' and tags.`{tracking.TAG}suite` = '{suite}'"
    out: dict[tuple, dict[int, float]] = defaultdict(dict)
    for run in tracking.search_all(client, [exp.experiment_id], query):
        if run.info.status != "FINISHED" or "test_acc" not in run.data.metrics:
            continue
        tags, params = run.data.tags, dict(run.data.params)
        precision = params.pop("train.precision", "fp32")
        params.pop("split", None)
        n_train, n_test = params.pop("n_train", ""), params.pop("n_test", "")
        if n_train.isdigit() and n_test.isdigit():
            RATIOS.append(int(n_test) / int(n_train))
        key = (tags[f"{tracking.TAG}row"], precision, tuple(sorted(params.items())))
        out[key][int(tags[f"{tracking.TAG}split"])] = 100 * run.data.metrics["test_acc"]
    return out


def _line(name: str, fp32: dict[int, float], bf16: dict[int, float]) -> str:
    shared = sorted(set(fp32) & set(bf16))
    a, b = np.array([fp32[k] for k in shared]), np.array([bf16[k] for k in shared])
    c = compare(dict(zip(shared, b / 100)), dict(zip(shared, a / 100)), float(np.mean(RATIOS)) if RATIOS else 0.5)
    diff = b - a
    return (
        f"| {name} | {c.n_paired} | {a.mean():.2f} ± {a.std(ddof=1):.2f} | {b.mean():.2f} ± {b.std(ddof=1):.2f} | "
        f"{c.diff:+.2f} [{c.diff_ci_low:+.2f}, {c.diff_ci_high:+.2f}] | {diff.std(ddof=1):.2f} | {c.p_value:.3f} | "
        f"{c.p_naive:.3f}{' (' + c.note + ')' if c.note else ''} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracking-uri", default=None)
    parser.add_argument("--experiment", default="synthetic-ve8")
    parser.add_argument("--suite", default="precision-check")
    args = parser.parse_args()
    runs = split_accuracies(tracking.tracking_uri(args.tracking_uri), args.experiment, args.suite)
    print(
        "| row | paired splits | fp32 % (mean ± std) | bf16 % (mean ± std) | bf16 - fp32 (points) [corrected 95 % "
        "CI] | "
        "std of the differences | p (corrected) | p (naive paired t-test) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    pooled_fp32, pooled_bf16 = {}, {}
    for (row, precision, params), fp32 in sorted(runs.items()):
        bf16 = runs.get((row, "bf16", params))
        if precision != "fp32" or not bf16 or len(set(fp32) & set(bf16)) < 2:
            continue
        print(_line(row, fp32, bf16))
        pooled_fp32.update({(row, k): v for k, v in fp32.items()})
        pooled_bf16.update({(row, k): v for k, v in bf16.items()})
    if len({row for row, _ in set(pooled_fp32) & set(pooled_bf16)}) > 1:
        print(_line("all pairs", pooled_fp32, pooled_bf16))


if __name__ == "__main__":
    main()
