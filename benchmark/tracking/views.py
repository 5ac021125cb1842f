"""One saved table view per suite, stored where MLflow 3's UI looks for shared views.

What the installed UI (MLflow 3.x, ``mlflow/server/js/build``) reads, and this module writes:

- experiment tag ``mlflow.sharedViewState.<key>``: a JSON envelope ``{name, createdAt, updatedAt,
  state}`` whose ``state`` is a JSON string of the runs page's state: the search facets
  (``searchFilter``, ``orderByKey``, ``orderByAsc``, ``startTime``, ``lifecycleFilter``,
  ``datasetsFilter``, ``modelVersionFilter``) and the table's UI state (``selectedColumns``,
  ``columnOrder``, ...). The URL ``#/experiments/<id>/runs?viewStateShareKey=<key>`` applies it; the
  envelope also lists the view under the page's saved views;
- experiment tag ``mlflow.experimentKind = custom_model_development``: the experiment opens on its
  Runs tab, not on the GenAI Overview; ``workflowType=machine_learning`` in the URL does the same for
  the page's navigation.

A suite's view shows its parent runs of the latest setting only (``bench.setting``), ordered by
``bench.row_order``, with the accuracy columns, the paper's number and the parameters that differ
between its rows.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from benchmark import tracking
from benchmark.tracking import curves
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.entities import Experiment
    from mlflow.tracking import MlflowClient

VIEW_TAG_PREFIX = "mlflow.sharedViewState."
VIEW_KEY_PREFIX = "bench-"
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
SUITE_OF_VIEW_TAG = f"{TAG}view."  # bench.view.<key> = suite name (the key is sanitised, the name is not)
RUN_NAME_WIDTH = 300  # px: parent names such as "table2 / w/o skeleton branch" in full
METRIC_COLUMNS = ("test_acc_mean", "test_acc_std", "n_splits", curves.PAPER_METRIC)
# after the differing params, so a row's model and modalities stay in view on a laptop-wide window
COMPARISON_COLUMNS = ("test_acc_diff", "p_value", "p_holm", "prob_row_better", "test_acc_best_epoch_mean")


def view_key(suite: str) -> str:
    """A URL- and tag-safe key for a suite's view: ``bench-table2``."""
    return VIEW_KEY_PREFIX + re.sub(r"[^A-Za-z0-9_-]+", "_", suite)


def _column(kind: str, key: str) -> str:
    return f"{kind}.`{key}`"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def search_filter(suite: str, setting: str) -> str:
    return (
        f"tags.`{TAG}kind` = '{tracking.PARENT}' and tags.`{TAG}suite` = {_quote(suite)} "
        f"and tags.`{curves.SETTING_TAG}` = {_quote(setting)}"
    )


def differing_params(flat_configs: Sequence[Mapping[str, str]]) -> list[str]:
    """Params whose values differ between a suite's rows (``modalities``, ``params.alpha``, ``model``), in
    first-seen order; ``model`` always (it tells the row's architecture)."""
    keys: list[str] = ["model"]
    for config in flat_configs:
        for key in config:
            if key not in keys and len({c.get(key) for c in flat_configs}) > 1:
                keys.append(key)
    return keys


def view_state(suite: str, setting: str, params: Iterable[str]) -> dict[str, Any]:
    """The runs page's state for a suite: facets and the table's columns."""
    columns = [_column("metrics", m) for m in METRIC_COLUMNS]
    columns += [_column("params", p) for p in params]
    columns += [_column("metrics", m) for m in COMPARISON_COLUMNS]
    columns += [_column("attributes", "Dataset"), _column("attributes", "Duration")]
    run_name = _column("attributes", "Run Name")
    widths = {run_name: RUN_NAME_WIDTH, _column("attributes", "Dataset"): 220}
    widths.update({c: 140 for c in columns if c.startswith("metrics.")})
    return {
        "searchFilter": search_filter(suite, setting),
        "orderByKey": _column("tags", curves.ROW_ORDER_TAG),
        "orderByAsc": True,
        "startTime": "ALL",
        "lifecycleFilter": "Active",
        "datasetsFilter": [],
        "modelVersionFilter": "All Runs",
        "selectedColumns": columns,
        "columnOrder": [run_name, *columns],  # ag-grid column ids: the table's left-to-right order
        "columnWidths": widths,
        "runsHiddenMode": "SHOW_ALL",
        "viewMaximized": False,
        "runListHidden": False,
        "isAccordionReordered": False,
        "groupBy": None,
        "groupsExpanded": {},
        "useGroupedValuesInCharts": True,
        "hideEmptyCharts": True,
    }


def envelope(name: str, state: Mapping[str, Any], created_ms: int | None = None) -> str:
    """The saved-view envelope the UI parses: ``{name, createdAt, updatedAt, state: <JSON string>}``."""
    now = int(time.time() * 1000)
    return json.dumps({"name": name, "createdAt": created_ms or now, "updatedAt": now, "state": json.dumps(state)})


def save_suite_view(
    client: MlflowClient, experiment_id: str, suite: str, title: str, setting: str, params: Iterable[str]
) -> str:
    """Write (or update) the suite's view and mark the experiment as a classic ML one; returns the key."""
    key = view_key(suite)
    existing = client.get_experiment(experiment_id).tags.get(VIEW_TAG_PREFIX + key)
    created = None
    if existing:
        try:
            created = int(json.loads(existing).get("createdAt"))
        except (ValueError, TypeError, AttributeError):
            created = None
    client.set_experiment_tag(
        experiment_id, VIEW_TAG_PREFIX + key, envelope(f"{suite}: {title}", view_state(suite, setting, params), created)
    )
    client.set_experiment_tag(experiment_id, SUITE_OF_VIEW_TAG + key, suite)
    client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return key


def suite_views(experiment: Experiment) -> list[tuple[str, str]]:
    """(suite, view key) of every suite view an experiment holds, sorted by suite."""
    tags = experiment.tags
    found = []
    for tag in tags:
        if tag.startswith(VIEW_TAG_PREFIX + VIEW_KEY_PREFIX):
            key = tag[len(VIEW_TAG_PREFIX) :]
            found.append((tags.get(SUITE_OF_VIEW_TAG + key, key[len(VIEW_KEY_PREFIX) :]), key))
    return sorted(found)


def view_path(experiment_id: str, key: str) -> str:
    """The UI route (after the server's address) that opens a saved view: a hash route."""
    return f"#/experiments/{experiment_id}/runs?viewStateShareKey={quote(key)}&workflowType=machine_learning"


def deep_link(base_url: str, experiment_id: str, key: str) -> str:
    return base_url.rstrip("/") + "/" + view_path(experiment_id, key)


def all_links(client: MlflowClient, base_url: str) -> list[tuple[str, str, str]]:
    """(experiment name, suite, deep link) for every suite view in every active experiment."""
    out = []
    for experiment in client.search_experiments():
        for suite, key in suite_views(experiment):
            out.append((experiment.name, suite, deep_link(base_url, experiment.experiment_id, key)))
    return out
