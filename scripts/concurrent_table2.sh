#!/bin/bash
# table2 on a small synthetic store (30 videos, 3 classes), 4 splits, 3 epochs: one process alone, then three at once
# Usage: scripts/concurrent_table2.sh [WORKDIR]   (run from the repository root with its venv active)
# Prints the wall times into WORKDIR/times.txt; each process's "trained N split runs" line is in WORKDIR/*/out*.txt.
export OMP_NUM_THREADS=1
W=${1:-/tmp/bench-concurrency}
B=bench
rm -rf "$W" && mkdir -p "$W/alone" "$W/three" && cd "$W"
python -c "
from features.synthetic import make_synthetic_store
make_synthetic_store('$W/store', counts={'Anger': 9, 'Joy': 9, 'Fear': 12}, dims={'visual': 24, 'audio': 16, 'skeleton': 12}, frames=12, seed=3)"
ARGS="run --suite table2 --features $W/store --n-splits 4 --epochs 3 --no-report"
s=$(date +%s.%N); (cd alone && $B $ARGS > out.txt 2>&1); e=$(date +%s.%N); echo "alone: $(echo "$e - $s" | bc) s" > times.txt
s=$(date +%s.%N); for i in 1 2 3; do (cd three && $B $ARGS --tracking-uri sqlite:///$W/three/mlflow.db > out$i.txt 2>&1; echo "rc$i=$?" >> rcs.txt) & done; wait; e=$(date +%s.%N); echo "three: $(echo "$e - $s" | bc) s" >> times.txt
