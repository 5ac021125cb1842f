import subprocess
import sys

import pytest

from benchmark.params import ParamError
from features.extract import require


def test_a_missing_library_names_the_install_command():
    with pytest.raises(ParamError, match=r"needs no_such_lib .*pip install 'ver-bench\[extract\]'"):
        require("no_such_lib.sub")


def test_importing_the_command_does_not_load_the_heavy_libraries():
    code = (
        "import sys, benchmark.commands.extract, features.extract.pipeline; "
        "print(sorted(m for m in ('av', 'timm', 'mediapipe', 'torchvggish', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
