"""`python -m ast_hybrid.bench`: runs end to end and writes well-formed results (no timing
assertions: the figures are machine-dependent, and a missed target never fails the run)."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(tmp_path, *extra):
    out = tmp_path / "results.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "ast_hybrid.bench", "--quick", "--models", "mlp1",
         "--json", str(out), *extra],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def test_quick_bench_writes_results(tmp_path):
    proc, data = _run(tmp_path)
    assert set(data) >= {"meta", "models", "first_call_ms", "targets"}
    assert data["meta"]["quick"] is True
    assert list(data["models"]) == ["mlp1"]
    row = data["models"]["mlp1"]
    variants = ("imperative", "trace", "ast", "numpy")
    for key in ("times_us", "ratio_to_numpy", "samples_us", "reference_matches"):
        assert set(row[key]) >= set(variants), key
    for v in variants:
        assert row["times_us"][v] > 0
        assert len(row["samples_us"][v]) == data["meta"]["repeats"]
        # every variant computes what the hand-written numpy reference computes
        assert row["reference_matches"][v] is True, (v, row["max_abs_diff"][v])
    assert row["ratio_to_numpy"]["numpy"] == 1.0
    assert row["ast_compile_error"] is None
    assert row["imperative_over_ast"] > 0 and row["trace_over_ast"] > 0
    first = data["first_call_ms"]["mlp1"]
    assert first["ast"]["median_ms"] > 0 and first["trace"]["median_ms"] > 0
    for t in data["targets"]:
        assert set(t) >= {"target", "model", "measured", "bound", "met"}
        assert isinstance(t["met"], bool)
    # the table and the progress bar
    assert "mlp1" in proc.stdout and "Targets" in proc.stdout
    assert "[" in proc.stderr and "]" in proc.stderr
    # written by rename: no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_unknown_model_is_an_error(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "ast_hybrid.bench", "--models", "nope"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown model" in proc.stderr
    assert not (tmp_path / "bench_results.json").exists()
