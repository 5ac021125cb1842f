"""``bench tune``: hyperparameter search with Optuna on validation parts of the training splits.

Modules: :mod:`space` (searchable parameters), :mod:`objective` (mean validation accuracy over K
splits), :mod:`study` (storage, samplers, pruner), :mod:`bookkeeping` (what is done, left, stale),
:mod:`mlflow_log` (parent and trial runs), :mod:`outputs` (table, plot, best setting),
:mod:`search` (one process's loop), :mod:`evaluate` (the best setting under the test protocol) and
:mod:`nested` (nested evaluation: a search inside every outer split's training part; MLflow runs in
:mod:`nested_log`, terminal table in :mod:`nested_output`).
"""
