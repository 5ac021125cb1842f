"""Size of what split runs keep (model/weights.safetensors, model/config.json, scores.csv) for a suite and
profile, per row and in all, by saving each row's freshly built model exactly as a run keeps it.

    python scripts/kept_sizes.py --suite all --profile paper [--features STORE] [--splits 10]

The weights' size does not depend on training, so no training is needed; scores.csv is measured on
random probabilities for the store's test split size (its size depends on the digits, not the values).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", default="all")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--features", default=None)
    parser.add_argument("--splits", type=int, default=10)
    args = parser.parse_args()

    from baselines import build_model, get_model
    from benchmark import checkpoints
    from benchmark.commands.common import store_for
    from benchmark.config import get_profile
    from benchmark.planning import plan_rows
    from benchmark.suite import load_suite
    from features.store import open_store

    store = open_store(store_for(Path(args.features) if args.features else None))
    planned = plan_rows(load_suite(args.suite), store, get_profile(args.profile), {}, precision="fp32")
    n_test = round(len(store) / 3)
    rng = np.random.default_rng(0)
    scores = checkpoints.scores_csv(
        [f"video_{i:05d}" for i in range(n_test)],
        [store.classes[0]] * n_test,
        list(store.classes),
        rng.dirichlet(np.ones(len(store.classes)), size=n_test),
    )
    totals = {"float16": 0, "float32": 0}
    print(f"{'row':40s} {'params':>12s} {'fp16 MB':>9s} {'fp32 MB':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        for p in planned:
            dims = {m: int(store.arrays[m].shape[-1]) for m in p.config.modalities}
            model = build_model(p.config.model, dims, len(store.classes), p.config.params)
            kind = get_model(p.config.model).kind
            sizes = {}
            for dtype in totals:
                spec = checkpoints.spec_of(p.config, dims, len(store.classes), (), "", kind, dtype)
                folder = Path(tmp) / f"{p.row.table}-{p.row.name}-{dtype}".replace("/", "_")
                if kind != "torch":  # an estimator is kept fitted; its size is its coefficients
                    sizes[dtype] = 8 * (sum(dims.values()) + 1) * len(store.classes) + len(spec.to_json())
                else:
                    sizes[dtype] = sum(f.stat().st_size for f in checkpoints.save(model, spec, folder))
                sizes[dtype] += len(scores.encode())
                totals[dtype] += sizes[dtype] * args.splits
            print(
                f"{p.row.table + ' / ' + p.row.name:40.40s} {p.n_parameters:12,d} {sizes['float16'] / 1e6:9.2f} "
                f"{sizes['float32'] / 1e6:9.2f}"
            )
    print(
        f"{len(planned)} rows x {args.splits} splits: float16 {totals['float16'] / 1e9:.2f} GB, float32 "
        f"{totals['float32'] / 1e9:.2f} GB "
        f"(scores.csv {len(scores.encode()) / 1e3:.0f} kB per run)"
    )


if __name__ == "__main__":
    main()
