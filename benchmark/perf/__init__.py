"""``bench perf``'s measurement (:mod:`.measure`) and its efficiency figures (:mod:`.efficiency`): they time
the training loops of :mod:`benchmark.engine` and :mod:`benchmark.training` without being part of them."""
