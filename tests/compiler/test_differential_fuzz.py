"""Differential fuzzing: random hybrid_forward programs (fuzz_programs.py) run imperatively and
in AST mode (optimized, unoptimized, static_alloc) must agree in outputs, input and parameter
gradients, printed text and exception types, or AST mode must refuse them.

The default run draws a fixed set of programs (the CI profile derandomizes). The long run
draws fresh programs for a given time and prints how many were drawn, compiled, refused
(by construct) and mismatched:
    AST_HYBRID_FUZZ_SECONDS=600 python -m pytest -q -s tests/compiler/test_differential_fuzz.py
"""
import os
import warnings

import pytest
from hypothesis import HealthCheck, given, settings

import fuzz_programs

SECONDS = float(os.environ.get("AST_HYBRID_FUZZ_SECONDS", "0"))
EXAMPLES = int(os.environ.get("AST_HYBRID_FUZZ_EXAMPLES", "40"))
AST_MODES = ("ast", "ast_noopt", "ast_static")


@pytest.mark.skipif(bool(SECONDS), reason="the long run draws fresh programs instead")
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(fuzz_programs.programs())
def test_ast_mode_agrees_with_imperative_mode_or_refuses(program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = fuzz_programs.run_differential(program, modes=AST_MODES)
    assert not report.differences, str(report)


@pytest.mark.skipif(not SECONDS, reason="set AST_HYBRID_FUZZ_SECONDS for the long run")
def test_long_run_finds_no_mismatch():
    statistics, refusals, mismatches = fuzz_programs.explore(seconds=SECONDS, modes=AST_MODES)
    print("\n" + fuzz_programs.summary(statistics, refusals))
    assert statistics["generated"] > 0
    assert not mismatches, "\n\n".join(fuzz_programs.describe(r, judge_gradients=False)
                                       for r in mismatches[:5])
