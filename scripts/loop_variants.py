"""Plain-loop variants at one profile's dims, interleaved in one process: eager, ``torch.compile(model)``, fused Adam.

    PYTHONPATH=. python scripts/loop_variants.py paper 4 eager,compiled,fused 3   # profile, steps, variants, repeats

The same model, optimiser and random features as ``bench perf``'s plain loop; each variant builds its
own model from seed 0 and warms up for two steps (the compile happens there), then every repeat times
all variants in turn. docs/measurements.md ("What was tried") carries the figures.
"""

import statistics
import sys
import time

import torch
import torch.nn.functional as F

from benchmark.perf.measure import PerfSetup, prepare
from benchmark.training import build_trainable

profile = sys.argv[1] if len(sys.argv) > 1 else "paper"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 4
variants = sys.argv[3].split(",") if len(sys.argv) > 3 else ["eager", "compiled"]
repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
prob = prepare(PerfSetup("cpu", splits=2, profile=profile, precision="fp32"))
cfg, res = prob.config, prob.resident
size = cfg.train.batch_size
pos = torch.from_numpy(prob.train)


def make(variant):
    torch.manual_seed(0)
    model, opt = build_trainable(cfg, {m: t.shape[-1] for m, t in res.features.items()}, prob.n_classes, "cpu")
    if "fused" in variant:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay, fused=True)
    fwd = torch.compile(model) if "compiled" in variant else model
    g = torch.Generator().manual_seed(0)
    model.train()

    def run(n):
        for _ in range(n):
            idx = pos[torch.randperm(len(pos), generator=g)[:size]]
            x = {m: f[idx] for m, f in res.features.items()}
            k = {m: t[idx] for m, t in res.masks.items()}
            loss = F.cross_entropy(fwd(x, k), res.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()

    return run


loops = {}
for v in variants:
    t = time.perf_counter()
    loops[v] = make(v)
    loops[v](2)
    print(f"{v}: build + 2 warm-up steps {time.perf_counter() - t:.1f} s", flush=True)
rates = {v: [] for v in variants}
for r in range(repeats):
    for v in variants[r % len(variants) :] + variants[: r % len(variants)]:
        t = time.perf_counter()
        loops[v](steps)
        rates[v].append(steps * size / (time.perf_counter() - t))
base = statistics.median(rates[variants[0]])
for v in variants:
    m = statistics.median(rates[v])
    print(
        f"{profile} {v}: {m:.1f} samples/s median ({', '.join(f'{x:.1f}' for x in rates[v])}) = {m / base:.2f}x "
        f"{variants[0]}"
    )
