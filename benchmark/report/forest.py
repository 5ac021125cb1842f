"""The forest plot: each compared row's difference from the reference with its corrected interval and the ROPE band."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmark.report.collect import Header
from benchmark.report.figures import CHANCE, MEASURED, _finish, _plt, _title
from benchmark.suite import Suite


def forest(section: Suite, frame, header: Header, path: Path, rope: float) -> Path | None:
    """Each compared row's mean difference from the reference (points) with its corrected 95 % interval,
    zero and the region of practical equivalence (±rope) marked; corrected and Holm p beside each row."""
    records = [
        r for r in frame.to_dict("records") if math.isfinite(r.get("diff", math.nan)) and r["row"] != section.reference
    ]
    if not section.reference or not records:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9.5, max(4.2, 1.8 + 0.75 * len(records))))
    y = np.arange(len(records))[::-1]
    diffs = np.array([r["diff"] for r in records])
    lows = np.array([r["diff_ci_low"] if math.isfinite(r["diff_ci_low"]) else r["diff"] for r in records])
    highs = np.array([r["diff_ci_high"] if math.isfinite(r["diff_ci_high"]) else r["diff"] for r in records])
    ax.axvspan(
        -rope,
        rope,
        color="#2e8b57",
        alpha=0.15,
        label=f"ROPE ±{rope:g} point{'s' if rope != 1 else ''} (practically equivalent)",
    )
    ax.axvline(0, color=CHANCE, linewidth=1)
    ax.errorbar(
        diffs,
        y,
        xerr=np.vstack([diffs - lows, highs - diffs]),
        fmt="o",
        color=MEASURED,
        capsize=5,
        label="mean difference, corrected 95 % interval",
    )
    low, high = min(float(lows.min()), -rope), max(float(highs.max()), rope)
    pad = 0.08 * (high - low)
    ax.set_xlim(low - pad, high + pad)
    for yi, r in zip(y, records):  # the test's figures in a column right of the axes
        p, holm = r.get("p_value", math.nan), r.get("p_holm", math.nan)
        text = "no test" if not math.isfinite(p) else f"p {_p_text(p)}, Holm {_p_text(holm)}"
        probs = [r.get(k, math.nan) for k in ("prob_reference_better", "prob_equivalent", "prob_row_better")]
        if all(math.isfinite(v) for v in probs):
            text += f"\nP(ref / ≈ / row) = {probs[0]:.2f} / {probs[1]:.2f} / {probs[2]:.2f}"
        ax.annotate(
            text, (1.02, yi), xycoords=("axes fraction", "data"), va="center", fontsize=8, annotation_clip=False
        )
    import textwrap

    ax.set_yticks(y, [textwrap.fill(r["row"], 24) for r in records])  # long names would squeeze the axes
    ax.set_xlabel(f"row − {section.reference} (accuracy points)")
    ax.set_ylim(-0.8, len(records) - 0.2 + 0.9)  # room above the rows for the legend
    ax.legend(loc="upper left", fontsize=8, ncol=1)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        _title(
            section,
            f"difference from {section.reference} (corrected resampled t-test, {int(records[0]['n_paired'])} paired "
            "splits)",
        ),
        fontsize=10,
    )
    return _finish(fig, path, header)


def _p_text(p: float) -> str:
    """``= 0.028`` or ``< 0.001``."""
    if not math.isfinite(p):
        return "—"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
