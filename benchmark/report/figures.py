"""Figures as PNG (200 dpi) and PDF (vector), matplotlib's Agg backend: accuracies with error bars (std over splits),
accuracy
against the swept parameter, training curves (mean and ±std band over splits), and the reference
row's per-class accuracy and confusion matrix summed over splits.

Every figure carries a footer with the dataset, profile and commit, and a red banner (a strip inside
the canvas) when the data is synthetic or the extractors were random, so a figure copied on its own
still says where it came from. Titles use the suite's title, never its id. Accuracy figures draw the
chance level (1 / classes) and mark the reference row; on synthetic or random-extractor data the
paper's numbers are labelled as numbers on real VE-8, not as targets.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmark.report import header as hdr
from benchmark.report.collect import Header, RowRuns
from benchmark.suite import Suite

MEASURED, PAPER, REFERENCE, CHANCE = "#3b6ea8", "#c0392b", "#1d3f66", "#777777"
PNG_DPI = 200
BANNER_LINE_IN = 0.24  # inches of banner per warning line


def _paper_label(header: Header) -> str:
    if hdr.warnings(header):
        return "paper's number on real VE-8 (different data: not a target)"
    return "paper"


def _title(section: Suite, what: str) -> str:
    import textwrap

    return textwrap.fill(f"{section.title}: {what}", 80)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(fig, path: Path, header: Header, suptitle: str | None = None) -> Path:
    """Footer, banner strip and optional figure title; saved as PNG and, beside it, PDF."""
    from matplotlib.patches import Rectangle

    footer = (
        f"{header.dataset} ({(header.dataset_fingerprints or ['?'])[0][:12]}) · profile {', '.join(header.profiles)} · "
        f"{header.n_splits} splits · commit {', '.join(c[:10] for c in header.commits) or 'unknown'} · {header.date}"
    )
    fig.text(0.01, 0.01, footer, fontsize=7, color="#555555")
    warnings = hdr.warnings(header)
    top = 1.0
    if warnings:  # a full-width strip inside the canvas, so no viewer or cropper can cut it
        top = 1.0 - (BANNER_LINE_IN * len(warnings) + 0.08) / fig.get_figheight()
        fig.patches.append(
            Rectangle((0, top), 1, 1 - top, transform=fig.transFigure, facecolor=PAPER, edgecolor="none", zorder=10)
        )
        fig.text(
            0.5,
            (1 + top) / 2,
            "\n".join(w.split(":")[0] + ": NOT REAL RESULTS" for w in warnings),
            ha="center",
            va="center",
            fontsize=9,
            color="white",
            fontweight="bold",
            zorder=11,
        )
    if suptitle:  # tight_layout leaves room for it below the banner
        fig.suptitle(suptitle, fontsize=11, y=top - 0.04 / fig.get_figheight(), va="top")
    fig.tight_layout(rect=(0, 0.04, 1, top - 0.01))
    fig.savefig(path, dpi=PNG_DPI)
    fig.savefig(path.with_suffix(".pdf"))
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _n_label(record) -> str:
    if record["n_splits"] == record["n_expected"]:
        return f"n={record['n_splits']}"
    return f"n={record['n_splits']}/{record['n_expected']}†"


def bars(section: Suite, frame, header: Header, path: Path, chance: float | None = None) -> Path:
    """Mean accuracy per row with ±std error bars, the reference row marked, the chance level as a line;
    the paper's numbers as red diamonds (hollow and labelled with their value on other data)."""
    plt = _plt()
    records = frame.to_dict("records")
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(records) + 2), 4.8))
    x = np.arange(len(records))
    means = [r["mean"] if not r["reported"] else np.nan for r in records]
    stds = [r["std"] if math.isfinite(r["std"]) else 0.0 for r in records]
    measured = np.isfinite(means)
    is_reference = np.array([r["row"] == section.reference for r in records])
    colours = [REFERENCE if ref else MEASURED for ref in is_reference]
    ax.bar(
        x[measured],
        np.asarray(means)[measured],
        yerr=np.asarray(stds)[measured],
        capsize=6,
        color=np.asarray(colours)[measured],
        alpha=0.85,
        label="ours: mean ± std over splits",
    )
    if (is_reference & measured).any():
        ax.bar(
            x[is_reference & measured],
            np.asarray(means)[is_reference & measured],
            color="none",
            edgecolor="black",
            linewidth=1.5,
            hatch="//",
            label=f"reference row ({section.reference})",
        )
    papers = [r["paper"] for r in records]
    if any(math.isfinite(p) for p in papers):
        _paper_markers(ax, x, papers, header)
    if chance:
        ax.axhline(chance, color=CHANCE, linestyle=":", linewidth=1.2, label=f"chance ({chance:.1f}%)")
    for xi, r in zip(x, records):
        label = "reported\n(not re-run)" if r["reported"] else (_n_label(r) if r["n_splits"] else "no finished\nsplit")
        y = r["mean"] + stds[xi] if math.isfinite(means[xi]) else (r["paper"] if math.isfinite(r["paper"]) else 0.0)
        ax.annotate(label, (xi, y), xytext=(0, 4), textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(
        x,
        [r["row"] + ("\n(reference)" if ref else "") for r, ref in zip(records, is_reference)],
        rotation=15 if len(records) > 4 else 0,
    )
    ax.set_ylabel("test accuracy after the last epoch (%)")
    top = np.nanmax([*(np.nan_to_num(means) + np.array(stds)), *[p for p in papers if math.isfinite(p)], 1.0])
    ax.set_ylim(0, min(100.0, top * 1.3 + 2))
    ax.legend(loc="upper left", ncol=2, fontsize=8)
    ax.set_title(_title(section, "accuracy per row (mean ± std over splits)"), fontsize=11)
    return _finish(fig, path, header)


def _paper_markers(ax, x, papers, header: Header, line: bool = False) -> None:
    """The paper's numbers: filled diamonds on real data; on synthetic or random-extractor data hollow
    diamonds labelled with their value, so they read as numbers from elsewhere, not as targets."""
    papers = np.asarray(papers, dtype=float)
    other_data = bool(hdr.warnings(header))
    style = {"marker": "D", "color": PAPER, "zorder": 3, "label": _paper_label(header)}
    if other_data:
        style.update(markerfacecolor="none", markeredgewidth=1.5)
    ax.plot(x, papers, linestyle="--" if line else "none", **style)
    if other_data:
        for xi, p in zip(x, papers):
            if math.isfinite(p):
                ax.annotate(
                    f"{p:.1f}",
                    (xi, p),
                    xytext=(8, -3),
                    textcoords="offset points",
                    fontsize=8,
                    color=PAPER,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
                )


def sweep(section: Suite, frame, header: Header, path: Path, chance: float | None = None) -> Path:
    """Accuracy against the swept parameter with ±std error bars, beside the paper's curve."""
    swept = section.sweep
    assert swept is not None  # only sweep sections have this figure
    plt = _plt()
    by_name = {row.name: row for row in section.rows}
    points = []
    for r in frame.to_dict("records"):
        value = by_name[r["row"]].params.get(swept)
        if value is not None:
            points.append((float(value), r))
    points.sort(key=lambda p: p[0])
    xs = np.array([p[0] for p in points])
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    means = np.array([r["mean"] for _, r in points])
    stds = np.array([r["std"] if math.isfinite(r["std"]) else 0.0 for _, r in points])
    ax.errorbar(xs, means, yerr=stds, marker="o", capsize=6, color=MEASURED, label="ours: mean ± std over splits")
    papers = np.array([r["paper"] for _, r in points])
    if np.isfinite(papers).any():
        _paper_markers(ax, xs, papers, header, line=True)
    reference = by_name.get(section.reference) if section.reference else None
    if reference is not None and swept in reference.params:
        ax.axvline(
            float(reference.params[swept]),
            color=REFERENCE,
            linestyle="-.",
            linewidth=1,
            label=f"reference ({section.reference})",
        )
    if chance:
        ax.axhline(chance, color=CHANCE, linestyle=":", linewidth=1.2, label=f"chance ({chance:.1f}%)")
    for x, (_, r), m, s in zip(xs, points, means, stds):
        if math.isfinite(m):
            ax.annotate(_n_label(r), (x, m + s), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8)
    for r in frame.to_dict("records"):  # rows without a value (the nested row): a level line and ±std band
        if by_name[r["row"]].params.get(swept) is None and not r["reported"] and math.isfinite(r["mean"]) and len(xs):
            band = r["std"] if math.isfinite(r["std"]) else 0.0
            ax.axhline(r["mean"], color="#2e8b57", linestyle=":", label=f"{r['row']} ({_n_label(r)})")
            ax.axhspan(r["mean"] - band, r["mean"] + band, color="#2e8b57", alpha=0.12)
    if len(xs) and xs.min() > 0 and xs.max() / xs.min() >= 4:
        ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [f"{x:g}" for x in xs])
    symbol = {"alpha": "α"}.get(swept, swept)
    ax.set_xlabel(f"{symbol} ({swept})")
    ax.set_ylabel("test accuracy after the last epoch (%)")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.35 * (high - low))  # room for the legend above the points
    ax.legend(loc="upper left", ncol=2, fontsize=8)
    ax.set_title(_title(section, f"accuracy against {symbol} (mean ± std over splits)"), fontsize=11)
    return _finish(fig, path, header)


def _curve_matrix(row: RowRuns, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs present in every finished split, and a [splits, epochs] array of values."""
    curves = [dict(s.curves.get(key, [])) for s in row.finished]
    curves = [c for c in curves if c]
    if not curves:
        return np.array([]), np.empty((0, 0))
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    return np.array(steps), np.array([[c[s] for s in steps] for c in curves])


def curves(section: Suite, rows: list[RowRuns], header: Header, path: Path) -> Path | None:
    """Test accuracy and training loss per epoch: mean line and ±std band over splits, per row."""
    plt = _plt()
    measured = [r for r in rows if r.finished]
    if not measured:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    colours = plt.get_cmap("tab10")
    for i, row in enumerate(measured):
        for ax, key, scale in ((axes[0], "test_acc", 100.0), (axes[1], "train_loss", 1.0)):
            steps, values = _curve_matrix(row, key)
            if not len(steps):
                continue
            values = values * scale
            mean = values.mean(axis=0)
            std = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros_like(mean)
            ax.plot(steps, mean, color=colours(i % 10), label=f"{row.row.name} (n={len(values)})")
            ax.fill_between(steps, mean - std, mean + std, color=colours(i % 10), alpha=0.2)
    axes[0].set_ylabel("test accuracy (%)")
    axes[1].set_ylabel("training loss (cross-entropy)")
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return _finish(
        fig, path, header, suptitle=_title(section, "training curves per row (mean and ±std band over splits)")
    )


def _per_split_recall(predictions, classes: list[str]) -> np.ndarray:
    out = []
    for _, part in predictions.groupby("split"):
        out.append(
            [
                (part.loc[part.label == c, "prediction"] == c).mean() if (part.label == c).any() else np.nan
                for c in classes
            ]
        )
    return 100.0 * np.array(out)


def per_class(section: Suite, predictions, classes: list[str], header: Header, path: Path) -> Path | None:
    """The reference row's accuracy per class: pooled over splits, with the std over splits."""
    plt = _plt()
    if predictions is None or not len(predictions):
        return None
    classes = classes or sorted(set(predictions.label))
    pooled = [
        100.0 * (predictions.loc[predictions.label == c, "prediction"] == c).mean()
        if (predictions.label == c).any()
        else np.nan
        for c in classes
    ]
    per_split = _per_split_recall(predictions, classes)
    std = np.nanstd(per_split, axis=0, ddof=1) if len(per_split) > 1 else np.zeros(len(classes))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(classes) + 2), 4.6))
    x = np.arange(len(classes))
    ax.bar(x, np.nan_to_num(pooled), yerr=std, capsize=5, color=MEASURED, alpha=0.85)
    ax.axhline(100.0 / len(classes), color="#777777", linestyle=":", label=f"chance ({100.0 / len(classes):.1f}%)")
    ax.set_xticks(x, classes, rotation=30 if len(classes) > 5 else 0)
    ax.set_ylabel("accuracy (recall) of the class (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8)
    n = predictions.split.nunique()
    ax.set_title(
        _title(section, f"per-class accuracy of {section.reference} (pooled over {n} splits, ±std over splits)"),
        fontsize=10,
    )
    return _finish(fig, path, header)


def confusion(section: Suite, predictions, classes: list[str], header: Header, path: Path) -> Path | None:
    """The reference row's confusion matrix summed over splits (counts; colour = share of the true class)."""
    from sklearn.metrics import confusion_matrix

    plt = _plt()
    if predictions is None or not len(predictions):
        return None
    classes = classes or sorted(set(predictions.label) | set(predictions.prediction))
    matrix = confusion_matrix(predictions.label, predictions.prediction, labels=classes)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(5.5, 0.75 * len(classes) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if share[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true class")
    n = predictions.split.nunique()
    ax.set_title(
        _title(section, f"confusion matrix of {section.reference}")
        + f"\n(test predictions summed over {n} splits; counts)",
        fontsize=10,
    )
    return _finish(fig, path, header)
