#!/usr/bin/env bash
# The GPU check, ready to run on a machine with a CUDA GPU and nothing prepared (docs/guide/performance.md; its figures go to docs/measurements.md):
#
#   bash scripts/device_check.sh            # from the checkout's root; at most 10 minutes (the step limits)
#   bash scripts/device_check.sh --dry-run  # the same steps, tiny, on the CPU (CI runs this)
#
# It installs the checkout into its own virtualenv (.device-venv, on top of the system's packages;
# none with --dry-run, which uses $PYTHON or python3 as it is; none with DEVICE_CHECK_SITE=FOLDER or
# FILE.tar.xz, the missing packages prepared for a machine without internet), then measures, each step under its own
# time limit (DEVICE_CHECK_LIMIT, 90 s by default, per perf run and for the default store; 3x that for
# the table2 split, 2/3 for extraction):
#   0. the default store, written into a fresh cache (timed apart from the training that reads it);
#   1. `bench perf --device cuda` with the vectorised engine and with the plain loop, fp32 and bf16 each;
#   2. extraction throughput (scripts/extract_throughput.py --device cuda; without mediapipe, no skeleton stage);
#   3. one split of `--suite table2 --profile paper` end to end (train, log, reuse nothing; on a time
#      limit, the JSON says how many of its split runs finished);
# and prints ONE line of JSON last: {"device_check": ..., "perf_vectorised": {...}, "perf_plain": {...},
# "table2_paper_split": {...}, "extract": {...}, "seconds": ...}. A step that fails or runs out of
# time is recorded as {"error": ...} and the others still run; the exit status is 0 when all passed.
set -u
cd "$(dirname "$0")/.."
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
START=$(date +%s)

if [ "$DRY" = 1 ]; then
  PY="${PYTHON:-python3}"
  DEVICE=cpu
  PERF_ARGS=(--small --profile quick --splits 2 --steps 1 --warmup 0 --repeats 1 --videos 120 --frames 4)
  RUN_ARGS=(--profile quick --epochs 1 --frames 4 --n-splits 1 --device cpu)
  EXTRACT_ARGS=(--seconds 1 --frames 2 --repeat 1 --device cpu)
  LIMIT=300
elif [ -n "${DEVICE_CHECK_SITE:-}" ]; then
  # a machine that reaches no package index: the missing packages come prepared as a folder (or a .tar.xz
  # of one) for its Python, the checkout runs from its tree (docs/guide/performance.md, "Profiling and the GPU check")
  SITE="$DEVICE_CHECK_SITE"
  if [ -f "$SITE" ]; then
    mkdir -p "$WORK/site" && tar -xJf "$SITE" -C "$WORK/site" --strip-components=1 || exit 2
    SITE="$WORK/site"
  fi
  PY="${PYTHON:-python3}"
  export PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
else
  # --system-site-packages: a torch already installed on the machine (with its CUDA) is used as it is;
  # pip fetches only what is missing (from PyPI, where the machine can reach it)
  VENV=.device-venv
  if [ ! -x "$VENV/bin/python" ]; then
    "${PYTHON:-python3}" -m venv --system-site-packages "$VENV" || exit 2
  fi
  "$VENV/bin/python" -m pip install --quiet -e '.[extract]' || exit 2
  PY="$VENV/bin/python"
fi
if [ "$DRY" = 0 ]; then
  "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || { echo '{"device_check": "no CUDA device"}'; exit 2; }
  DEVICE=cuda
  PERF_ARGS=(--splits 10 --steps 20 --warmup 5 --repeats 3)
  RUN_ARGS=(--profile paper --n-splits 1 --device cuda)
  EXTRACT_ARGS=(--seconds 20 --frames 100 --repeat 2 --device cuda)
  LIMIT=${DEVICE_CHECK_LIMIT:-90}
fi
export BENCH_CACHE_DIR="$WORK/cache"

# step NAME SECONDS COMMAND...: run it with a time limit, keep its last line (JSON) or an error
step() {
  local name=$1 limit=$2
  shift 2
  local t0=$(date +%s)
  timeout "$limit" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  echo "$rc $(( $(date +%s) - t0 ))" >"$WORK/$name.rc"
  echo "device_check: $name exit $rc in $(( $(date +%s) - t0 )) s" >&2
  [ "$rc" = 0 ] || tail -n 25 "$WORK/$name.err" | sed "s/^/  $name: /" >&2  # the traceback, for the log
}

if [ "$DRY" = 1 ]; then  # a tiny store: the default one (1,101 videos at the paper's dims) takes minutes on 2 cores
  step store "$LIMIT" "$PY" -c "import sys; from features.synthetic import make_synthetic_store as m; m(sys.argv[1], counts={'Anger': 9, 'Joy': 9, 'Fear': 12}, dims={'visual': 24, 'audio': 16, 'skeleton': 12}, frames=12, seed=3)" "$WORK/store"
  RUN_ARGS+=(--features "$WORK/store")
else  # the default store, written once into the cache, timed apart from the training that reads it
  step store "$LIMIT" "$PY" -c "from features.synthetic import default_store_path as p; print(p())"  # 4 s on an H200 machine
fi

step perf_vectorised "$LIMIT" "$PY" -m benchmark.cli perf --device "$DEVICE" --engine vectorised "${PERF_ARGS[@]}"
step perf_plain "$LIMIT" "$PY" -m benchmark.cli perf --device "$DEVICE" --engine plain "${PERF_ARGS[@]}"
step extract "$(( LIMIT * 2 / 3 ))" "$PY" scripts/extract_throughput.py "${EXTRACT_ARGS[@]}"
step table2_paper_split "$(( LIMIT * 3 ))" "$PY" -m benchmark.cli run --suite table2 "${RUN_ARGS[@]}" --no-report \
  --tracking-uri "sqlite:///$WORK/mlflow.db"

"$PY" - "$WORK" "$DRY" "$START" <<'EOF'
import json, sys, time
from pathlib import Path

work, dry, start = Path(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
out, ok = {"device_check": "dry-run" if dry else "cuda"}, True
for name in ("store", "perf_vectorised", "perf_plain", "extract", "table2_paper_split"):
    rc, seconds = map(int, (work / f"{name}.rc").read_text().split())
    lines = (work / f"{name}.out").read_text().strip().splitlines()
    if rc != 0 and name == "table2_paper_split" and (work / "mlflow.db").exists():  # how far it got
        import sqlite3

        with sqlite3.connect(work / "mlflow.db") as db:
            done = db.execute("select count(*) from runs r join tags t on t.run_uuid = r.run_uuid "
                              "where t.key = 'bench.kind' and t.value = 'split' and r.status = 'FINISHED'").fetchone()[0]
        out["table2_finished_splits"] = done
    if rc != 0:
        ok = False
        err = (work / f"{name}.err").read_text().strip().splitlines()
        out[name] = {"error": f"exit {rc}" + (" (time limit)" if rc == 124 else ""), "seconds": seconds,
                     "tail": (err or lines or [""])[-1][-300:]}
        continue
    if name == "store":
        out[name] = {"seconds": seconds}
        continue
    if name == "table2_paper_split":
        out[name] = {"seconds": seconds, "summary": next((l for l in lines if "trained" in l), "")}
        continue
    try:
        figures = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        ok, figures = False, {"error": "no JSON line"}
    if name.startswith("perf") and "rates" in figures:
        keep = ("device", "precision", "engine", "speedup", "reference_samples_per_s", "engine_samples_per_s",
                "fp32_samples_per_s", "bf16_samples_per_s", "matmul_tflops", "train_gflops_per_sample", "loops",
                "projected_all_paper_s")
        figures = {k: figures[k] for k in keep if k in figures}
    out[name] = {**figures, "seconds": seconds}
out["seconds"] = int(time.time()) - start
print(json.dumps(out), flush=True)
sys.exit(0 if ok else 1)
EOF
