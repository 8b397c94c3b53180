"""The tree passes ruff as pyproject.toml configures it (unused imports, undefined names,
likely bugs, long lines), so the next change cannot quietly bring them back."""
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def ruff_command():
    installed = shutil.which("ruff", path=str(pathlib.Path(sys.executable).parent))
    if installed is None:
        pytest.skip("ruff is not installed (it comes with the test extra)")
    return installed


def test_ruff_finds_nothing():
    done = subprocess.run([ruff_command(), "check", "ast_hybrid", "samples", "tools", "tests"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
