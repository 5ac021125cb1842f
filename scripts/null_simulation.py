"""Type I error and power of the naive and the corrected paired t-test under the benchmark's protocol.

    PYTHONPATH=. python scripts/null_simulation.py --repetitions 500 [--samples 300] [--json out.json]

Why a simulation: the suite's splits are repeated random stratified 2/3 subsamples of one dataset, so
two methods' per-split differences are correlated (overlapping training and test sets), and the plain
paired t-test over them rejects a true null far more often than its nominal level. This script
measures that on a population where the truth is known.

The population (fixed by ``--seed``): ``--classes`` classes with equal priors; two feature blocks A
and B of ``--features`` dimensions each, with the same class means in both blocks and independent unit
Gaussian noise, so a classifier on A and the same classifier on B have exactly the same accuracy on
the population, though not on any one sample of it. Method A is scikit-learn's
``LogisticRegression`` on block A, method B the same on block B. Each repetition draws a fresh
dataset of ``--samples`` videos from the population and evaluates both methods on ``--splits`` seeded
stratified 2/3 splits of it (``StratifiedShuffleSplit``, as ``bench run``); the naive test
(``scipy.stats.ttest_rel``) and the corrected resampled t-test of the report
(:func:`benchmark.statistics.significance.compare`, with n_test/n_train of the splits) are applied to the
paired accuracies. Under the null the share of repetitions with p < alpha is the Type I error.

Power: the same with block B's class means shrunk by ``--shrink`` (less separable), which plants a
difference of a few accuracy points; the share of repetitions with p < alpha is each test's power, and
the planted difference is the mean over repetitions of mean(A − B), the expected difference of the
two methods trained on samples of this size.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass

for _name in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
):  # tiny fits: threads only cost (x6 on a busy machine)
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402


@dataclass
class Rates:
    repetitions: int
    shrink: float  # 1.0: the null (both blocks equally informative)
    mean_difference: float  # points, A − B, mean over repetitions
    naive: float  # share of repetitions with naive p < alpha
    corrected: float  # share with corrected p < alpha
    accuracy_a: float  # mean accuracy of method A, %
    ratio: float  # n_test/n_train of the splits


def population(classes: int, features: int, separation: float, seed: int) -> np.ndarray:
    """The class means shared by both blocks, [classes, features]."""
    return separation * np.random.default_rng(seed).standard_normal((classes, features))


def draw(
    means: np.ndarray, samples: int, shrink: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One dataset: labels (balanced) and blocks A and B (B's means times ``shrink``)."""
    classes, features = means.shape
    y = np.resize(np.arange(classes), samples)
    rng.shuffle(y)
    a = means[y] + rng.standard_normal((samples, features))
    b = shrink * means[y] + rng.standard_normal((samples, features))
    return y, a, b


def repetition(y, a, b, splits: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-split accuracies of methods A and B, and n_test/n_train."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedShuffleSplit

    splitter = StratifiedShuffleSplit(n_splits=splits, train_size=2 / 3, random_state=seed)
    acc_a, acc_b, ratios = [], [], []
    for train, test in splitter.split(a, y):
        for block, out in ((a, acc_a), (b, acc_b)):
            model = LogisticRegression(max_iter=200).fit(block[train], y[train])
            out.append(float((model.predict(block[test]) == y[test]).mean()))
        ratios.append(len(test) / len(train))
    return np.array(acc_a), np.array(acc_b), float(np.mean(ratios))


def simulate(
    repetitions: int,
    *,
    samples: int = 300,
    classes: int = 4,
    features: int = 5,
    splits: int = 10,
    separation: float = 0.8,
    shrink: float = 1.0,
    alpha: float = 0.05,
    seed: int = 0,
) -> Rates:
    from scipy.stats import ttest_rel
    from threadpoolctl import threadpool_limits

    from benchmark.statistics.significance import compare

    means = population(classes, features, separation, seed)
    rng = np.random.default_rng(seed + 1)
    naive = corrected = 0
    diffs, accs, ratio = [], [], 0.0
    for r in range(repetitions):
        y, a, b = draw(means, samples, shrink, rng)
        with threadpool_limits(1):  # also where numpy was imported before this module (a test)
            acc_a, acc_b, ratio = repetition(y, a, b, splits, seed=1000 + r)
        naive += bool(ttest_rel(acc_a, acc_b).pvalue < alpha)
        c = compare(dict(enumerate(acc_a)), dict(enumerate(acc_b)), ratio)
        corrected += bool(c.p_value < alpha)
        diffs.append(100 * float((acc_a - acc_b).mean()))
        accs.append(100 * float(acc_a.mean()))
    return Rates(
        repetitions,
        shrink,
        float(np.mean(diffs)),
        naive / repetitions,
        corrected / repetitions,
        float(np.mean(accs)),
        ratio,
    )


def markdown(rows: list[Rates], alpha: float) -> str:
    lines = [
        f"| setting | repetitions | mean A − B (points) | accuracy of A % | naive t-test: p < {alpha:g} | corrected "
        f"t-test: p < {alpha:g} |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        setting = (
            "null (same population accuracy)" if r.shrink == 1.0 else f"planted difference (B's means × {r.shrink:g})"
        )
        lines.append(
            f"| {setting} | {r.repetitions} | {r.mean_difference:+.2f} | {r.accuracy_a:.1f} | {100 * r.naive:.1f} % "
            f"| {100 * r.corrected:.1f} % |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=500)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--features", type=int, default=5)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--separation", type=float, default=0.8, help="scale of the class means (noise sd is 1)")
    parser.add_argument("--shrink", type=float, default=0.9, help="B's class means times this for the power run")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the rates as JSON to this file")
    args = parser.parse_args()
    common = dict(
        samples=args.samples,
        classes=args.classes,
        features=args.features,
        splits=args.splits,
        separation=args.separation,
        alpha=args.alpha,
        seed=args.seed,
    )
    start = time.perf_counter()
    rows = [simulate(args.repetitions, shrink=1.0, **common), simulate(args.repetitions, shrink=args.shrink, **common)]
    print(markdown(rows, args.alpha))
    print(
        f"\n{args.samples} samples, {args.classes} classes, {args.features} features per block, {args.splits} splits "
        f"(n_test/n_train = {rows[0].ratio:.3f}), logistic regression, seed {args.seed}; "
        f"{time.perf_counter() - start:.0f} s"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": [asdict(r) for r in rows]}, f, indent=1)


if __name__ == "__main__":
    main()
