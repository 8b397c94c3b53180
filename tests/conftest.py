"""Test-wide settings: property tests draw the same examples on every run, so CI is
reproducible; HYPOTHESIS_PROFILE=explore draws fresh ones (run it when changing a pass).
Each test starts with fresh name counters, as a fresh process does, so the names blocks get
(`dense0_`) do not depend on which tests ran before."""
import os

import pytest
from hypothesis import settings

import ast_hybrid

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def fresh_name_counters():
    with ast_hybrid.name.NameManager():
        yield
