#!/usr/bin/env bash
# The packages scripts/device_check.sh needs on a CUDA machine that reaches no package index, prepared
# here (where pip works) for that machine's Python, as one .tar.xz to carry (DEVICE_CHECK_SITE):
#
#   bash scripts/device_site.sh [OUT.tar.xz] [PYTHON_VERSION] [PRESENT]
#
# PYTHON_VERSION: the GPU machine's (default 3.12). PRESENT: a file listing the packages already
# installed there, comma- or line-separated (they are left out; default: none left out). MLflow's UI
# bundle (mlflow/server/js) is dropped: the check never serves the UI. mediapipe is not included
# (it pins numpy<2); the extraction step then leaves the CPU-only skeleton stage out.
set -euo pipefail
OUT="${1:-.whl/site.tar.xz}"
PYV="${2:-3.12}"
PRESENT="${3:-}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any)
python3 -m pip download --quiet --only-binary=:all: --python-version "$PYV" --implementation cp "${PLATFORMS[@]}" \
  -d "$WORK/wheels" mlflow optuna soundfile av resampy
python3 -m pip wheel --quiet --no-deps -w "$WORK/wheels" torchvggish  # an sdist only
if [ -n "$PRESENT" ]; then  # leave out what the machine has
  python3 - "$WORK/wheels" "$PRESENT" <<'PY'
import re, sys
from pathlib import Path
folder, present = Path(sys.argv[1]), Path(sys.argv[2]).read_text()
have = {n.strip().rstrip(".").replace("_", "-").lower() for n in re.split(r"[,\n]", present) if n.strip()}
for wheel in folder.glob("*.whl"):
    if re.split(r"-\d", wheel.name)[0].replace("_", "-").lower() in have:
        wheel.unlink()
PY
fi
python3 -m pip install --quiet --ignore-requires-python --no-deps --no-compile --target "$WORK/site" --only-binary=:all: \
  --python-version "$PYV" --implementation cp "${PLATFORMS[@]}" "$WORK"/wheels/*.whl
rm -rf "$WORK/site/mlflow/server/js"
mkdir -p "$(dirname "$OUT")"
tar -cJf "$OUT" -C "$WORK" site
ls -la "$OUT"
