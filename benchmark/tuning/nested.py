"""``bench tune --nested``: an unbiased accuracy for "the proposed model with its parameters chosen on
validation", comparable with the rows of the paper's Table 3.

For every outer split k of the protocol (``bench run``'s splits: the store's protocol, e.g. the seeded
2/3 splits, or its one official split, :mod:`benchmark.protocol`):

1. **inner search**: an Optuna study of its own (``<base>-outer<k>``, in the same storage), whose
   objective is the mean validation accuracy over ``inner_splits`` stratified fit/validation
   divisions (validation 1/5) of split k's *training part only* (:func:`inner_parts`);
2. **selection**: the best complete trial (:func:`benchmark.tuning.search.best_key`), from the
   trials' validation accuracies alone;
3. **retraining and one test score**: the chosen setting trained on the whole training part and
   scored on split k's test part after the last epoch. This is an ordinary ``bench run`` split run
   (same configuration, split and fingerprint), so a run that Table 3 already finished is reused.

The test part of split k is first touched in step 3, after the choice. Studies, trial runs and split
runs are all resumable, so a rerun trains nothing that finished; outer splits are independent jobs
that the executors (``local``, ``processes``, ``dask``) spread.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmark import tracking
from benchmark.code_identity import code_fingerprint
from benchmark.config import stable_hash
from benchmark.jobs import JobOutcome, SplitJob, run_split_job, split_run_fingerprint, split_run_key
from benchmark.params import ParamError, check_int
from benchmark.redaction import redact
from benchmark.splits import Split
from benchmark.tracking import nested_runs
from benchmark.tracking.tags import TAG
from benchmark.tuning.nested_spec import (
    NestedSpec,
    base_name,
    label_of,
    nested_key,
    outer_protocol,
    plan_inner_search,
    spec_store,
)
from benchmark.tuning.objective import tune_modalities


@dataclass(frozen=True)
class OuterJob:
    """One outer split: inner search, selection, retraining and test score. ``fingerprint``, ``row``
    and ``split`` are what the executors name a job by."""

    spec: NestedSpec
    split: Split
    base_name: str
    experiment_id: str
    parent_run_id: str
    run_id: str  # the outer split's child run
    fingerprint: str
    row: str = "nested"

    @property
    def study_name(self) -> str:
        return f"{self.base_name}-outer{self.split.index}"


@dataclass(frozen=True)
class OuterOutcome(JobOutcome):
    chosen: Mapping[str, Any] = field(default_factory=dict)
    val_acc: float = math.nan
    trials_ran: int = 0
    split_run_id: str = ""
    split_run_reused: bool = False


def run_outer_split(
    job: OuterJob, on_epoch: Callable | None = None, echo: Callable[[str], None] | None = None
) -> OuterOutcome:
    """Inner search on the training part, choice, then one test score; logged under ``job.run_id``."""
    from baselines.plugins import load_plugins
    from benchmark.tuning.search import best_key, run_study

    spec, split = job.spec, job.split
    k = split.index
    echo = echo or (lambda line: print(f"[outer split {k}] {line}", flush=True))
    load_plugins(spec.plugins)  # a worker process starts without the coordinator's plugins
    store = spec_store(spec.store_path)
    client = tracking.client(spec.tracking_uri)
    try:
        plan = plan_inner_search(spec, split, job.study_name)
        logger = nested_runs.OuterSplitLogger(
            spec.tracking_uri,
            store.name,
            plan.name,
            job.run_id,
            {f"{TAG}outer_split": k, f"{TAG}nested": job.parent_run_id},
        )
        result = run_study(plan, spec.storage, logger, echo=echo, close=False)
        if not result.finished:
            reason = (
                f"inner search not finished ({len(result.book.active)} trials running in other processes): run again"
            )
            return OuterOutcome(job.fingerprint, job.row, k, "FAILED", job.run_id, reason=reason, trials_ran=result.ran)
        complete = [t for t in result.book.done if t.state.name == "COMPLETE"]
        if not complete:
            reason = "no inner trial completed (all pruned or failed)"
            nested_runs.fail_outer(client, job.run_id, reason)
            return OuterOutcome(job.fingerprint, job.row, k, "FAILED", job.run_id, reason=reason, trials_ran=result.ran)
        best = max(complete, key=best_key)
        chosen = dict(best.params)
        nested_runs.log_choice(client, job.run_id, chosen, best.value, best.user_attrs.get("val_acc_std"))
        echo(
            f"outer split {k}: chose {label_of(chosen)} (inner validation accuracy {100 * best.value:.1f}%, trial "
            f"{best.number})"
        )

        config = plan.context.config(chosen)
        fingerprint = split_run_fingerprint(config, split.digest(store.ids), store.fingerprint)
        found = tracking.finished_split_runs(client, job.experiment_id, {fingerprint}).get(fingerprint)
        if found is not None:
            test_acc, split_run_id, reused = float(found.data.metrics["test_acc"]), found.info.run_id, True
        else:
            outcome = run_split_job(
                SplitJob(
                    store_path=spec.store_path,
                    tracking_uri=spec.tracking_uri,
                    experiment_id=job.experiment_id,
                    parent_run_id=job.run_id,
                    suite=f"nested/{job.base_name}",
                    row=f"chosen on split {k}: {label_of(chosen)}",
                    config=config,
                    split=split,
                    fingerprint=fingerprint,
                    dataset_fingerprint=store.fingerprint,
                    device=spec.device,
                    plugins=spec.plugins,
                    code_fingerprint=code_fingerprint(config.model),
                    run_key=split_run_key(config, split.digest(store.ids), store.fingerprint),
                ),
                on_epoch=on_epoch,
            )
            if outcome.status != "FINISHED":
                nested_runs.fail_outer(client, job.run_id, f"retraining failed: {outcome.reason}")
                return OuterOutcome(
                    job.fingerprint,
                    job.row,
                    k,
                    "FAILED",
                    job.run_id,
                    reason=outcome.reason,
                    chosen=chosen,
                    trials_ran=result.ran,
                )
            test_acc, split_run_id, reused = outcome.test_acc, outcome.run_id, False
        nested_runs.finish_outer(client, job.run_id, test_acc, split_run_id, reused)
        echo(
            f"outer split {k}: test accuracy {100 * test_acc:.1f}% ({'reused' if reused else 'trained'} split run "
            f"{split_run_id})"
        )
        return OuterOutcome(
            job.fingerprint,
            job.row,
            k,
            "FINISHED",
            job.run_id,
            test_acc=test_acc,
            chosen=chosen,
            val_acc=best.value,
            trials_ran=result.ran,
            split_run_id=split_run_id,
            split_run_reused=reused,
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except ParamError:
        raise
    except Exception as exc:  # the other outer splits go on; the reason is on the child run
        reason = f"{type(exc).__name__}: {exc}"
        nested_runs.fail_outer(client, job.run_id, reason)
        return OuterOutcome(job.fingerprint, job.row, k, "FAILED", job.run_id, reason=reason)


@dataclass
class NestedSummary:
    base_name: str
    parent_run_id: str
    n_splits: int
    accuracies: list[float]
    chosen: dict[int, dict[str, str]]
    children: dict[int, Any]  # split -> its child run (as MLflow holds it at the end)
    outcomes: list[JobOutcome]  # the outer splits run by this command (finished ones are not run again)

    @property
    def trials_ran(self) -> int:
        return sum(getattr(o, "trials_ran", 0) for o in self.outcomes)

    @property
    def split_runs_trained(self) -> int:
        return sum(
            bool(getattr(o, "split_run_id", "")) and not getattr(o, "split_run_reused", True) for o in self.outcomes
        )

    @property
    def failures(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status != "FINISHED"]


def run_nested(
    spec: NestedSpec,
    n_splits: int | None = None,
    *,
    executor: str = "local",
    jobs: int | None = None,
    scheduler: str | None = None,
    echo: Callable[[str], None] = print,
) -> NestedSummary:
    """Find or create the parent and one child per outer split, run the unfinished outer splits, aggregate.
    The outer splits are the protocol's (``n_splits``: its count, default the protocol's own)."""
    if n_splits is not None:
        check_int("n_splits", n_splits, low=1)
    check_int("inner_splits", spec.inner_splits, low=1)
    from benchmark.executors import make_executor

    worker_executor = make_executor(executor, jobs=jobs, scheduler=scheduler, fn=run_outer_split)
    store = spec_store(spec.store_path)
    protocol = outer_protocol(spec).with_count(n_splits)
    splits = protocol.splits(store)
    n_splits = len(splits)  # an official protocol may hold fewer lists than asked
    plan_inner_search(spec, splits[0], None, check=True)  # every value of the space builds, before anything is stored
    key = nested_key(spec)
    name = base_name(spec, key)
    fingerprint = stable_hash(
        ["nested", name, key]
    )  # the target number of trials included: more trials, another evaluation

    client = tracking.client(spec.tracking_uri)
    experiment = tracking.experiment_id(client, store.name)
    tracking.close_orphans(client, experiment)
    parent = nested_runs.find_or_create(
        client,
        experiment,
        tracking.NESTED,
        fingerprint,
        f"nested / {name}",
        nested_runs.parent_tags(
            spec, store, name, tune_modalities(spec.model, store), redact(spec.storage), protocol.source
        ),
        _parent_params(spec, key),
    )
    parent_id = parent.info.run_id
    children: dict[int, Any] = {}
    for split in splits:
        child_fp = stable_hash([fingerprint, split.index, split.digest(store.ids)])
        children[split.index] = nested_runs.find_or_create(
            client,
            experiment,
            tracking.NESTED_SPLIT,
            child_fp,
            f"{name} / outer split {split.index}",
            {
                "mlflow.parentRunId": parent_id,
                f"{TAG}split": split.index,
                f"{TAG}outer_split": split.index,
                f"{TAG}split_source": split.source,
                f"{TAG}dataset_fingerprint": store.fingerprint,
                f"{TAG}profile": spec.profile.name,
                f"{TAG}params": ",".join(spec.space),
                **tracking.environment_tags(spec.device),
            },
            {
                "outer_split": split.index,
                "inner_splits": spec.inner_splits,
                **{f"space.{k}": p.describe() for k, p in spec.space.items()},
            },
        )
    todo = [
        OuterJob(
            spec,
            split,
            name,
            experiment,
            parent_id,
            children[split.index].info.run_id,
            stable_hash([fingerprint, split.index, split.digest(store.ids)]),
        )
        for split in splits
        if not nested_runs.is_done(children[split.index])
    ]
    echo(
        f"nested evaluation {name}: {n_splits} outer splits ({n_splits - len(todo)} finished before), "
        f"{spec.inner_splits} inner splits each; studies {name}-outer<k> in {redact(spec.storage)}"
    )
    outcomes: list[JobOutcome] = []
    if worker_executor is None:
        for job in todo:
            outcomes.append(run_outer_split(job, echo=echo))
    else:
        outcomes.extend(worker_executor.run(todo))  # type: ignore[arg-type]  # fn=run_outer_split runs OuterJobs
    final = {k: client.get_run(run.info.run_id) for k, run in children.items()}
    accs, chosen = nested_runs.close_parent(client, parent_id, final, n_splits)
    return NestedSummary(name, parent_id, n_splits, accs, chosen, final, outcomes)


def _parent_params(spec: NestedSpec, key: Mapping[str, Any]) -> dict[str, Any]:
    """The training settings that were not searched (so reports compare it with Table 3 rows of the
    same setting), the space and the search's size."""
    from benchmark.tuning.objective import TuneContext

    context = TuneContext(
        spec_store(spec.store_path),
        spec.profile,
        spec.space,
        [],
        dict(spec.train_overrides),
        spec.device,
        model=spec.model,
    )
    searched = {f"train.{name}" for name in spec.space}
    train = {k: v for k, v in context.config({}).flat().items() if k.startswith("train.") and k not in searched}
    return {
        **train,
        **{f"space.{k}": p.describe() for k, p in spec.space.items()},
        "inner_splits": spec.inner_splits,
        "target_trials": key["target"],
        "sampler": key["sampler"],
        "prune": spec.prune,
        "seed": spec.seed,
    }
