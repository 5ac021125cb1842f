"""bench perf's timing loop: a loop that fails is reported apart, the others are still timed."""

import torch

from benchmark.perf.loops import Loop, PerfSetup, interleaved_rates


def test_a_loop_that_fails_in_its_first_step_is_reported_and_the_others_are_timed():
    steps = []

    def fine(n):
        steps.append(n)

    def refuses(n):
        raise RuntimeError("expected input and grad types to match")

    setup = PerfSetup("cpu", splits=2, steps=3, warmup=0, repeats=2)
    rates, memory, failed = interleaved_rates(
        {"plain fp32": Loop(fine, 16), "vectorised bf16": Loop(refuses, 32)}, setup, torch.device("cpu")
    )
    assert failed == {"vectorised bf16": "RuntimeError: expected input and grad types to match"}
    assert list(rates) == ["plain fp32"] and len(rates["plain fp32"]) == 2 and all(r > 0 for r in rates["plain fp32"])
    assert list(memory) == ["plain fp32"]
    assert steps == [1, 3, 3]  # one warm-up step even with --warmup 0, then the timed repeats
