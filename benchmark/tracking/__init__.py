"""Everything that writes to MLflow: the run lifecycle and what the MLflow UI shows (docs/architecture.md).

No module outside this package creates, tags, logs to, ends or deletes a run (a test greps for it).
The contract other tools read (tags, params, metrics, artifacts) is docs/guide/tracking.md.

- :mod:`.mlflow_client`: the client for a tracking URI, the experiment per dataset, searching, logging helpers,
  environment and owner tags, orphaned runs (the names below are re-exported from it);
- :mod:`.parents`: a suite row's parent run (find or create, open, close, abandon), the suite's view;
- :mod:`.split_runs`: a split's child run (start, describe, per-epoch metrics, finish, fail, kill);
- :mod:`.claims`: which process trains a split when several share one store;
- :mod:`.curves`, :mod:`.views`, :mod:`.description`, :mod:`.inputs`, :mod:`.report_artifacts`: parent
  curves and durations, saved table views, the experiment's description, the store as dataset input,
  the rendered report as artifacts;
- :mod:`.studies` and :mod:`.nested_runs`: ``bench tune``'s study, trial and nested-evaluation runs.

Accuracy is a fraction (0..1) everywhere in MLflow (:data:`UNIT`); reports show percent.
"""

from benchmark.tracking.mlflow_client import (  # noqa: F401  (the package's face: ``tracking.client(...)``)
    DEFAULT_TRACKING_URI,
    all_finished_split_runs,
    client,
    close_orphans,
    device_name,
    discard_run,
    environment_tags,
    experiment_id,
    finished_split_runs,
    git_commit,
    is_orphan,
    log_metrics,
    log_params,
    owner_tags,
    process_gone,
    search_all,
    set_tags,
    tracking_uri,
)
from benchmark.tracking.tags import EVALUATION, NESTED, NESTED_SPLIT, PARENT, SPLIT, TAG, TUNE_STUDY, TUNE_TRIAL  # noqa: F401

UNIT = "fraction"  # accuracy in MLflow: metrics, the paper's number, tags; reports show percent
from benchmark.tracking.run_files import log_file_artifacts, log_json_artifact, log_text_artifact  # noqa: E402,F401
