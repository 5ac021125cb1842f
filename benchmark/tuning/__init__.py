"""``bench tune``: hyperparameter search with Optuna on validation parts of the training splits.

Modules: :mod:`space` (searchable parameters), :mod:`objective` (mean validation accuracy over K
splits), :mod:`study` (storage, samplers, pruner), :mod:`bookkeeping` (what is done, left, stale),
:mod:`mlflow_log` (parent and trial runs), :mod:`outputs` (table, plot, best setting),
:mod:`search` (one process's loop) and :mod:`evaluate` (the best setting under the test protocol).
"""
