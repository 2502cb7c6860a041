"""The public conformance smoke test of the CLI contract (shared/conformance)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHECK = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "check.py"


@pytest.mark.skipif(not CHECK.exists(), reason=f"{CHECK} is not beside this checkout")
def test_public_conformance_check_passes():
    planner = Path(sys.executable).with_name("planner")
    run = subprocess.run([sys.executable, str(CHECK), str(planner)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all checks hold" in run.stdout
