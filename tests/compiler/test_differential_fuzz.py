"""Differential fuzzing: random hybrid_forward programs (fuzz_programs.py) run imperatively and
in AST mode (optimized, unoptimized, static_alloc) must agree in outputs, input and parameter
gradients, printed text and exception types, or AST mode must refuse them.

The default run draws a fixed set of programs (the CI profile derandomizes). A longer run:
    AST_HYBRID_FUZZ_SECONDS=600 python -m pytest -q -s tests/compiler/test_differential_fuzz.py
prints how many programs were drawn, compiled, refused and mismatched."""
import collections
import os
import time
import warnings

from hypothesis import HealthCheck, given, settings

import fuzz_programs

SECONDS = float(os.environ.get("AST_HYBRID_FUZZ_SECONDS", "0"))
EXAMPLES = int(os.environ.get("AST_HYBRID_FUZZ_EXAMPLES", "40" if not SECONDS else "1000000"))
AST_MODES = ("ast", "ast_noopt", "ast_static")

_counts = collections.Counter()
_started = time.monotonic()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(fuzz_programs.programs())
def test_ast_mode_agrees_with_imperative_mode_or_refuses(program):
    if SECONDS and time.monotonic() - _started > SECONDS:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = fuzz_programs.run_differential(program, modes=AST_MODES)
    _counts["programs"] += 1
    _counts["compiled" if report.compiled else "refused"] += 1
    for mode, construct in report.refused.items():
        _counts[f"refused {mode}: {str(construct)[:60]}"] += 0
    if report.differences:
        _counts["mismatched"] += 1
    assert not report.differences, str(report)


def teardown_module(module):
    if SECONDS or os.environ.get("AST_HYBRID_FUZZ_EXAMPLES"):
        print(f"\ndifferential fuzz: {dict((k, v) for k, v in _counts.items() if v)} "
              f"in {time.monotonic() - _started:.0f} s")
