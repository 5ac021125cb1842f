"""Declare that a covered module was rewritten without changing what it computes (keeps its code identity).

Usage: python scripts/declare_equivalence.py MODULE REV "why"
  MODULE  e.g. benchmark.training; REV  the git revision whose statements it keeps (e.g. HEAD).

Run the golden record (tests/benchmark/test_code_identity.py) afterwards: it must pass unchanged, which
is the proof that the numbers are the same. Without that proof, do not declare anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmark.code_identity import EQUIVALENCES, _sha, normalised_statements


def main(module: str, rev: str, why: str) -> None:
    path = Path(*module.split(".")).with_suffix(".py")
    old = subprocess.run(["git", "show", f"{rev}:{path.as_posix()}"], capture_output=True, text=True, check=True).stdout
    was = normalised_statements(old, str(path))
    was = json.loads(EQUIVALENCES.read_text()).get(module, {}).get("was", was) if EQUIVALENCES.is_file() else was
    now = normalised_statements(path.read_text(encoding="utf-8"), str(path))
    entries = json.loads(EQUIVALENCES.read_text()) if EQUIVALENCES.is_file() else {}
    entries[module] = {"now": _sha("\n".join(sorted(now))), "why": why, "was": was}
    EQUIVALENCES.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{module}: statements now {entries[module]['now'][:12]} keep the identity of {rev}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
