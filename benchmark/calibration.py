"""Is bf16 autocast faster than fp32 here? Measured once per machine and kept (``--precision auto``).

An ``avx512_bf16`` flag says that bf16 instructions exist, not that they are fast: on an Intel Xeon
without AMX bf16 matmuls ran at 0.6x fp32, on an AMD EPYC with the same flag at 2.4x
(docs/guide/performance.md). So ``auto`` times the configuration's own matmuls (the shapes of one training
step at its batch size: forward, and the two products of each one's backward) in fp32 and under bf16
autocast, on the torch threads training will use, and takes bf16 only where it is at least
:data:`MARGIN` times faster.

The precision is part of a run's fingerprint, so the answer must not change from one command to the
next: it is measured once and kept in ``$BENCH_CACHE_DIR/calibration/`` (default
``~/.cache/bench``), one file per machine key (CPU model and flags, or GPU name; torch version;
threads), one entry per set of matmul shapes. Later commands read the entry and never measure again;
a lock makes concurrent first commands agree. Delete the file to measure again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

#: bf16's total matmul time must be at most 1 / MARGIN of fp32's for ``auto`` to take it.
MARGIN = 1.15
#: Rounds of the calibration, each timing both precisions; the median of the rounds' ratios counts.
ROUNDS = 5

Shape = tuple[int, int, int, int]  # (batch, m, k, n) of one [b, m, k] @ [b, k, n] product (batch 0: a 2-d mm)


@dataclass(frozen=True)
class Calibration:
    """One measurement: seconds of the configuration's matmuls at each precision, and the choice."""

    key: str  # the machine key's digest (the cache file's name)
    shapes_digest: str
    threads: int
    fp32_s: float
    bf16_s: float
    measured_at: str
    machine: str
    load: float | None = None  # the 1-minute load average when it was measured (a busy machine's figure is noisy)

    @property
    def speedup(self) -> float:
        """bf16 over fp32 (above 1: bf16 faster)."""
        return self.fp32_s / self.bf16_s if self.bf16_s > 0 else 0.0

    @property
    def bf16(self) -> bool:
        return self.speedup >= MARGIN

    def describe(self) -> str:
        """One line for the terminal and the ``bench.precision_choice`` tag."""
        import os

        verdict = "bf16" if self.bf16 else "fp32"
        busy = (
            f", load {self.load:.1f} on {os.cpu_count()} cores"
            if self.load is not None and self.load > (os.cpu_count() or 1)
            else ""
        )
        return (
            f"{verdict}: bf16 matmuls {self.speedup:.2f}x fp32 at the model's shapes "
            f"({self.threads} thread{'s' if self.threads != 1 else ''}, bf16 from {MARGIN}x; calibrated "
            f"{self.measured_at[:10]} "
            f"on {self.machine}{busy}; cache {self.key})"
        )


def cpu_model() -> str:
    """The CPU's model name as Linux reports it (else :func:`platform.processor`)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_key(device: str, threads: int) -> dict[str, str]:
    """What the calibration depends on besides the shapes: the processor, torch, and the threads."""
    import torch

    from benchmark.precision import cpu_flags

    if device.startswith("cuda"):
        index = torch.device(device).index or 0
        hardware = {"gpu": torch.cuda.get_device_name(index), "cuda": str(torch.version.cuda)}
    else:
        flags = " ".join(sorted(cpu_flags()))
        hardware = {
            "cpu": cpu_model(),
            "flags": hashlib.sha256(flags.encode()).hexdigest()[:16],
            "capability": str(torch.backends.cpu.get_cpu_capability()),
        }
    return {**hardware, "torch": torch.__version__, "threads": str(threads)}


def cache_file(key: Mapping[str, str]) -> Path:
    from features.synthetic import cache_dir

    digest = hashlib.sha256(json.dumps(dict(key), sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / "calibration" / f"{digest}.json"


def shapes_digest(shapes: Mapping[Shape, int]) -> str:
    text = json.dumps(sorted([list(s), c] for s, c in shapes.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def calibration(device: str, threads: int, shapes: Mapping[Shape, int]) -> Calibration:
    """The kept calibration for ``shapes`` on this machine at ``threads``; measured (and kept) if missing."""
    from filelock import FileLock  # a dependency of torch

    key = machine_key(device, threads)
    path = cache_file(key)
    digest = shapes_digest(shapes)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):  # concurrent first commands: one measures, the others read its answer
        kept = _read(path)
        if digest not in kept.get("entries", {}):
            load = _load()
            fp32_s, bf16_s, ratios = measure(device, threads, shapes)
            entry = {
                "fp32_s": fp32_s,
                "bf16_s": bf16_s,
                "ratios": [round(r, 3) for r in ratios],
                "load": load,
                "shapes": sorted([list(s), c] for s, c in shapes.items()),
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            kept = {"machine": key, "entries": {**kept.get("entries", {}), digest: entry}}
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(kept, indent=1))
            temporary.replace(path)
    entry = kept["entries"][digest]
    name = key.get("gpu") or key.get("cpu", "")
    return Calibration(
        path.stem,
        digest,
        threads,
        float(entry["fp32_s"]),
        float(entry["bf16_s"]),
        entry["measured_at"],
        name,
        entry.get("load"),
    )


def _load() -> float | None:
    import os

    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def measure(
    device: str, threads: int, shapes: Mapping[Shape, int], rounds: int = ROUNDS
) -> tuple[float, float, list[float]]:
    """Seconds of one pass over ``shapes`` (each product ``count`` times) in fp32 and under bf16 autocast
    (fp32 inputs, as autocast sees a layer's activations): the median fp32 pass, the bf16 pass that gives
    the median of the rounds' ratios, and those ratios. Each product is timed in both precisions back to
    back, alternating which goes first, so a load that comes and goes on a shared machine hits both
    alike; the median over rounds keeps one disturbed round from deciding."""
    import statistics

    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        g = torch.Generator().manual_seed(0)
        operands = [(_operands(shape, g, device), count) for shape, count in shapes.items()]
        fp32, ratios = [], []
        for r in range(rounds + 1):  # round 0 warms up (allocation, kernel selection)
            seconds = _time_pass(operands, device)
            if r:
                fp32.append(seconds["fp32"])
                ratios.append(seconds["fp32"] / seconds["bf16"])
        typical = statistics.median(fp32)
        return typical, typical / statistics.median(ratios), ratios
    finally:
        torch.set_num_threads(previous)


def _operands(shape: Shape, g, device: str):
    import torch

    b, m, k, n = shape
    lead = (b,) if b else ()
    return torch.randn(*lead, m, k, generator=g).to(device), torch.randn(*lead, k, n, generator=g).to(device)


def _time_pass(operands, device: str) -> dict[str, float]:
    """Seconds of each precision over one pass, each product's calls interleaved (fp32, bf16, bf16, fp32, ...)."""
    import torch

    from benchmark.precision import autocast

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    seconds = {"fp32": 0.0, "bf16": 0.0}
    calls = 0
    with torch.no_grad():
        for (a, b), count in operands:
            for _ in range(count):
                for precision in ("fp32", "bf16") if calls % 2 else ("bf16", "fp32"):
                    with autocast(precision, device):
                        sync()
                        start = time.perf_counter()
                        torch.matmul(a, b)
                        sync()
                    seconds[precision] += time.perf_counter() - start
                calls += 1
    return seconds


@functools.lru_cache(maxsize=128)
def _step_shapes(
    model: str, dims: tuple[tuple[str, int], ...], params_json: str, frames: int, batch: int
) -> tuple[tuple[Shape, int], ...]:
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    from baselines import build_model

    counts: dict[Shape, int] = {}
    aten = torch.ops.aten
    products = {aten.mm.default, aten.bmm.default, aten.addmm.default, aten.baddbmm.default}

    class Products(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in products:
                a, b = (args[0], args[1]) if func in (aten.mm.default, aten.bmm.default) else (args[1], args[2])
                lead = a.shape[0] if a.dim() == 3 else 0
                m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
                for shape in ((lead, m, k, n), (lead, m, n, k), (lead, k, m, n)):  # forward, grad input, grad weight
                    counts[shape] = counts.get(shape, 0) + 1
            return func(*args, **(kwargs or {}))

    def forward(device: str) -> None:
        counts.clear()
        net = build_model(model, dict(dims), 8, json.loads(params_json)).train().to(device)
        with Products():
            net({m: torch.zeros(batch, frames, d, device=device) for m, d in dims}, {})

    with torch.random.fork_rng(), torch.no_grad():  # building draws from the global generator: leave it as it was
        try:
            forward("meta")  # shapes without arithmetic
        except (NotImplementedError, RuntimeError):
            forward("cpu")  # a model that needs values (a plugin's .item(), say) runs on zeros
    return tuple(sorted(counts.items()))


def step_shapes(config, dims: Mapping[str, int]) -> dict[Shape, int]:
    """The matmuls of one training step of ``config`` at its batch size and frames: each forward product
    and the two of its backward, with how often each shape occurs."""
    frames = config.train.frames or 100
    key = tuple((m, int(dims[m])) for m in config.modalities)
    params = json.dumps(dict(config.params), sort_keys=True, default=str)
    return dict(_step_shapes(config.model, key, params, frames, config.train.batch_size))


def calibrate_config(config, dims: Mapping[str, int], device: str, threads: int) -> Calibration:
    """The kept calibration for ``config``'s matmuls on ``device`` at ``threads`` (measured on first use)."""
    return calibration(device, threads, step_shapes(config, dims))
