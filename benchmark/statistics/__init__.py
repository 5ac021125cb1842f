"""The statistics of the suite, in one place: a row's summary over splits (:mod:`.rows`), the comparison of
a row with its reference row (:mod:`.significance` for several splits, :mod:`.mcnemar` for one split) and
each table's comparisons (:mod:`.comparisons`). The runner, the parents in MLflow and the report all use it;
it imports nothing of theirs."""
