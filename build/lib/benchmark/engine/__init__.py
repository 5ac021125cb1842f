"""The vectorised training engine: the splits of one configuration trained together as one model.

Each split keeps its own initialisation seed, data order, BatchNorm statistics and Adam state, so a
split trained here means the same as the same split trained alone by :mod:`benchmark.training`
(bitwise up to float rounding with dropout 0; with dropout the masks come from another random
stream). Modules: ``stacked`` (K models as one, ``torch.func``), ``batches`` (device-resident
features, per-split batches and standardisation), ``optim`` (per-split Adam), ``train`` (the loop),
``policy`` (``--engine auto|plain|vectorised``) and ``perf`` (``bench perf``).
"""
