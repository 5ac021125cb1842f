"""``bench tune``: hyperparameter search with Optuna on validation parts of the training splits.

Modules: :mod:`space` (searchable parameters), :mod:`objective` (mean validation accuracy over K
splits), :mod:`study` (storage, samplers, pruner), :mod:`bookkeeping` (what is done, left, stale),
:mod:`outputs` (table, plot, best setting), :mod:`search` (one process's loop), :mod:`evaluate` (the
best setting under the test protocol), :mod:`nested_spec` and :mod:`nested` (nested evaluation: a search
inside every outer split's training part; terminal table in :mod:`nested_output`). Their MLflow runs are
written by :mod:`benchmark.tracking.studies` and :mod:`benchmark.tracking.nested_runs`.
"""
