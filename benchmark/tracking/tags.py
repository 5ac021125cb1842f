"""The names of the MLflow layout that other tools read: the tag prefix and the run kinds.

Every ``bench.*`` tag is written as ``f"{TAG}name"``; no module spells the prefix itself (a test
greps for it). ``bench.kind`` takes one of the kind values below.
"""

from __future__ import annotations

TAG = "bench."
PARENT, SPLIT, TUNE_STUDY, TUNE_TRIAL = "parent", "split", "study", "trial"
EVALUATION = "evaluation"  # one test-time evaluation of a kept model (bench evaluate), a child of its split run
NESTED, NESTED_SPLIT = "nested", "nested_split"  # bench tune --nested: the evaluation, one outer split
