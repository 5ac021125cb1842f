"""Evaluation after training (``bench evaluate``): every kept model of a suite on its test split, clean and
under registered test-time corruptions, logged as MLflow runs keyed by (split run, corruption), reused like
split runs. Corruptions are a registry (:mod:`.corruptions`), like models and metrics."""
