"""The benchmark harness: CLI, suites, splits, training, tracking, tuning, executors and reports."""

__version__ = "0.1.0"
