"""Test-wide settings: property tests draw the same examples on every run, so CI is
reproducible; HYPOTHESIS_PROFILE=explore draws fresh ones (run it when changing a pass)."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
