"""The tuning vocabulary: what a trial carries and how the validation part is drawn, in one place.

The objective writes these user attributes, the study's bookkeeping, the reports and the MLflow
logger read them; ``TARGET_MODEL`` / ``TARGET_TRAIN`` (in :mod:`benchmark.tuning.space`) say where a
searched parameter goes, and the tuned model's *name* is ``TuneContext.model``.
"""

from __future__ import annotations

#: The fraction of each split's training part held out for validation (stratified, seeded).
VALIDATION_FRACTION = 0.2

# Trial user attributes.
VAL_SPLITS, VAL_MEAN, VAL_STD = "val_acc_splits", "val_acc_mean", "val_acc_std"
SKIPPED, INTERRUPTED, FAILURE, HOST, PID = "skipped", "interrupted", "failure_reason", "host", "pid"


class SkipTrial(Exception):
    """This trial would repeat work another trial does or did (a duplicate grid point, a surplus trial)."""
