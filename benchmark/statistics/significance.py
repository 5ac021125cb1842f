"""A row against its reference row over paired splits: the tests that hold under the protocol.

The splits are repeated random subsamples of one dataset, so their training sets (and test sets)
overlap and the per-split differences are positively correlated; the plain paired t-test then
underestimates the variance of the mean difference and rejects a true null far too often. The
headline is therefore the **corrected resampled paired t-test** of Nadeau & Bengio (2003): with J
paired splits, per-split differences d_j (row − reference, in accuracy points) and their sample
variance s², t = mean(d) / sqrt((1/J + n_test/n_train) · s²) on J − 1 degrees of freedom, and the
95 % interval of the mean difference uses the same standard error.

Beside it: the **Bayesian correlated t-test** of Benavoli et al. (JMLR 2017): the posterior of the
mean difference is Student t with J − 1 degrees of freedom, location mean(d) and
scale² = (1/J + ρ/(1 − ρ)) · s², ρ = n_test/n_total (so ρ/(1 − ρ) = n_test/n_train, the same
correction), read as P(reference better) = P(diff < −rope), P(practically equivalent) =
P(|diff| ≤ rope) and P(row better) = P(diff > rope). ``baycomp``'s ``CorrelatedTTest`` fixes
ρ = 1/k (k-fold cross-validation), which is not this protocol, so scipy's t distribution is used.

The plain paired t-test (``scipy.stats.ttest_rel``) is kept as ``p_naive`` for comparison with
papers, never as the headline. Holm's step-down adjustment across a table's compared rows uses
``statsmodels.stats.multitest.multipletests(method="holm")`` (named: its default is Holm–Šidák).

Which correction for which split source (:func:`design_of`):

- seeded random stratified subsamples (the default protocol): n_test/n_train of the paired runs;
- one split (one official split file): no test is possible, the note says so;
- several user split files whose test sets are disjoint folds of one k-fold cross-validation: the
  same formula, whose ratio is then 1/(k − 1) (Bouckaert & Frank 2004; Benavoli's ρ = 1/k);
- anything else (user split files with overlapping test sets): treated as repeated subsampling,
  with the runs' own sizes, and the note says it is an assumption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

NAME = "corrected resampled paired t-test (Nadeau & Bengio 2003), two-sided"
BAYES_NAME = "Bayesian correlated t-test (Benavoli et al. 2017)"
HOLM_NAME = "Holm step-down (statsmodels multipletests, method='holm')"
DEFAULT_ROPE = 1.0  # accuracy points
LEVEL = 0.95

SUBSAMPLING, KFOLD, SINGLE, ASSUMED = "random-subsampling", "k-fold", "single-split", "assumed-subsampling"
DESIGN_TAG = "split_design"  # the parent tag (under ``bench.``) that records which design the splits form
DESIGN_NOTES = {
    SUBSAMPLING: "repeated random subsampling: variance × (1/J + n_test/n_train)",
    KFOLD: "disjoint k-fold test folds: variance × (1/J + n_test/n_train), n_test/n_train = 1/(k − 1)",
    SINGLE: "one split: no test possible",
    ASSUMED: "user split files that are not disjoint folds: assumed repeated subsampling, variance × (1/J + "
    "n_test/n_train)",
}


@dataclass
class Comparison:
    """One row against the reference, differences in accuracy points (row − reference)."""

    n_paired: int = 0
    diff: float = math.nan
    diff_ci_low: float = math.nan
    diff_ci_high: float = math.nan
    p_value: float = math.nan  # corrected (the headline)
    p_naive: float = math.nan  # plain paired t-test (for comparison with papers)
    p_holm: float = math.nan  # filled in by :func:`holm` across a table's rows
    wins: float = 0  # splits on which the row beat the reference (NaN: not compared)
    ties: float = 0
    losses: float = 0
    prob_reference_better: float = math.nan
    prob_equivalent: float = math.nan
    prob_row_better: float = math.nan
    rope: float = DEFAULT_ROPE
    ratio: float = math.nan  # n_test/n_train used by the correction
    sizes_from: str = ""  # where that ratio's split sizes came from: RECORDED_SIZES, NOMINAL_SIZES, "" (none used)
    note: str = ""  # why a figure is missing

    def as_record(self) -> dict[str, float]:
        """The numeric figures (each a table.csv column and a parent metric); ``sizes_from`` and ``note`` are text."""
        keys = (
            "p_value",
            "p_naive",
            "p_holm",
            "diff",
            "diff_ci_low",
            "diff_ci_high",
            "wins",
            "ties",
            "losses",
            "prob_reference_better",
            "prob_equivalent",
            "prob_row_better",
            "rope",
        )
        return {k: getattr(self, k) for k in keys}


RECORD_KEYS = list(Comparison().as_record())


def design_of(splits: Sequence[tuple[np.ndarray, np.ndarray]], random: bool) -> str:
    """The design the splits form, from their (train, test) positions: see the module docstring."""
    if random:
        return SUBSAMPLING
    if len(splits) < 2:
        return SINGLE
    tests = [set(map(int, test)) for _, test in splits]
    everything = set().union(*tests)
    disjoint = sum(len(t) for t in tests) == len(everything)
    complements = all(set(map(int, train)) == everything - test for (train, _), test in zip(splits, tests))
    return KFOLD if disjoint and complements else ASSUMED


def design_from_source(source: str, n_splits: int) -> str:
    """The fallback for runs without a recorded design: from the ``bench.split_source`` tag."""
    if source.startswith("random"):
        return SUBSAMPLING
    return SINGLE if n_splits < 2 else ASSUMED


#: Where the corrected test's n_test/n_train came from: the runs (``n_train``/``n_test`` params or their
#: ``split.json``), or, for runs that recorded neither, the protocol's nominal 2/3 split (a stated assumption).
RECORDED_SIZES, NOMINAL_SIZES = "recorded", "nominal"


def size_ratio(
    sizes: Mapping[int, tuple[int, int]], splits: Sequence[int], default: float | None = None
) -> float | None:
    """Mean n_test/n_train over the given splits' (n_train, n_test); ``default`` where no size is known."""
    ratios = [sizes[k][1] / sizes[k][0] for k in splits if k in sizes and sizes[k][0] > 0]
    return float(np.mean(ratios)) if ratios else default


def compare(
    row: Mapping[int, float],
    reference: Mapping[int, float],
    ratio: float | None,
    rope: float = DEFAULT_ROPE,
    design: str = SUBSAMPLING,
) -> Comparison:
    """Row vs reference over their shared splits (accuracies as fractions; ``ratio`` = n_test/n_train).

    ``ratio`` None (sizes unknown) leaves the corrected figures empty and says so; the naive p and
    wins / ties / losses need no sizes.
    """
    from scipy import stats

    shared = sorted(set(row) & set(reference))
    out = Comparison(n_paired=len(shared), rope=rope)
    if not shared:
        out.note = "n=0 shared splits: too few for a test"
        return out
    d = 100.0 * (np.array([row[k] for k in shared]) - np.array([reference[k] for k in shared]))
    out.diff = float(d.mean())
    ties = np.isclose(d, 0.0, atol=1e-9)
    out.wins, out.ties, out.losses = int(((d > 0) & ~ties).sum()), int(ties.sum()), int(((d < 0) & ~ties).sum())
    j = len(d)
    if j < 2:
        out.note = "one split: no test possible" if design == SINGLE else f"n={j} shared splits: too few for a test"
        return out
    if np.allclose(d, d[0], atol=1e-9):  # no variance: the posterior is a point mass at the difference
        out.note = (
            "identical on every split" if np.allclose(d, 0.0, atol=1e-9) else "constant difference: no variance to test"
        )
        out.diff_ci_low = out.diff_ci_high = out.diff
        out.prob_reference_better, out.prob_equivalent, out.prob_row_better = (
            float(out.diff < -rope),
            float(abs(out.diff) <= rope),
            float(out.diff > rope),
        )
        return out
    out.p_naive = float(stats.ttest_rel(d, np.zeros(j)).pvalue)
    if ratio is None or not math.isfinite(ratio):
        out.note = "split sizes unknown: no corrected test (the naive p is in the CSV)"
        return out
    out.ratio = ratio
    out.sizes_from = out.sizes_from or RECORDED_SIZES
    se = math.sqrt((1.0 / j + ratio) * d.var(ddof=1))
    t = out.diff / se
    out.p_value = float(2.0 * stats.t.sf(abs(t), j - 1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, j - 1)) * se
    out.diff_ci_low, out.diff_ci_high = out.diff - half, out.diff + half
    posterior = stats.t(j - 1, loc=out.diff, scale=se)  # Benavoli: scale² = (1/J + ρ/(1 − ρ)) s², ρ/(1 − ρ) = ratio
    below, above = float(posterior.cdf(-rope)), float(posterior.sf(rope))
    out.prob_reference_better, out.prob_row_better = below, above
    out.prob_equivalent = max(0.0, 1.0 - below - above)
    return out


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values of the finite entries (NaN stays NaN: rows without a test)."""
    from statsmodels.stats.multitest import multipletests

    values = np.asarray(p_values, dtype=float)
    out = np.full(len(values), math.nan)
    finite = np.isfinite(values)
    if finite.any():
        out[finite] = multipletests(values[finite], method="holm")[1]
    return [float(v) for v in out]


def with_holm(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons with ``p_holm`` set across them (one table's compared rows)."""
    for c, adjusted in zip(comparisons, holm([c.p_value for c in comparisons])):
        c.p_holm = adjusted
    return list(comparisons)


@dataclass
class Footnote:
    """What a table's footnote says about its test: which test, which design, where the naive p is."""

    designs: list[str] = field(default_factory=list)
    rope: float = DEFAULT_ROPE

    def text(self, reference: str) -> str:
        if self.designs == [SINGLE]:
            return (
                f"One official split: Diff: row − {reference} in points on its test videos, with Newcombe's hybrid "
                "score 95 % "
                "interval of the paired difference; p: McNemar's test on the paired test predictions (exact "
                "binomial below 25 "
                "discordant videos, else chi-square with continuity correction; table.csv's test column says "
                "which); Holm: "
                f"{HOLM_NAME} across this table's rows."
            )
        design = "; ".join(DESIGN_NOTES.get(d, d) for d in self.designs) or DESIGN_NOTES[SUBSAMPLING]
        return (
            f"Diff: row − {reference} in points, mean over paired splits with its corrected 95 % interval; "
            f"p: {NAME} ({design}); Holm: {HOLM_NAME} across this table's rows; W/T/L: splits the row won, tied, "
            f"lost; P(ref/≈/row): {BAYES_NAME}, probability that {reference} is better by more than "
            f"{self.rope:g} point(s), that both are within ±{self.rope:g} (practically equivalent), that the row is "
            "better. "
            "The plain paired t-test's p (anti-conservative on overlapping splits) is in table.csv as p_naive."
        )
