"""Each sample in samples/ runs as a script and prints what the lecture shows."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

def run_sample(name, cwd, *args, timeout=180):
    """Run samples/<name> with this interpreter, in `cwd`, on this checkout's ast_hybrid."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, str(SAMPLES / name), *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (f"{name} exited with {result.returncode}\n--- stdout\n"
                                    f"{result.stdout}\n--- stderr\n{result.stderr}")
    return result.stdout


def sections(output):
    """{title: text} for the '===== title' sections a sample prints."""
    parts = re.split(r"^===== (.*)$", output, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_symbolic_programming(tmp_path):
    output = run_sample("symbolic_programming.py", tmp_path)
    lines = output.splitlines()
    assert lines.count("10") == 2, output          # once imperatively, once from exec
    assert "def add(a, b):\n    return a + b\n" in output
    assert ("def fancy_func(a, b, c, d):\n    e = add(a, b)\n    f = add(c, d)\n"
            "    g = add(e, f)\n    return g\n") in output
    assert "print(fancy_func(1, 2, 3, 4))" in output
    assert lines.index("Symbolic: compiled and run") < len(lines) - 1
    assert lines[-1] == "10"


def test_hybridize_mlp(tmp_path):
    out = tmp_path / "exported"
    output = run_sample("hybridize_mlp.py", tmp_path, "--passes", "50", "--out", str(out))
    assert "max |ast - imperative| = 0.0" in output
    assert "max |trace - imperative| = 0.0" in output
    assert "All three outputs are equal." in output
    assert "Benchmark: 50 forward passes, then nd.waitall()" in output
    assert re.search(r"^Before hybridizing: \d+\.\d{4} sec$", output, re.MULTILINE)
    for mode in ("trace", "ast"):
        assert re.search(rf"^After hybridizing \(mode='{mode}'\): \d+\.\d{{4}} sec "
                         rf"\(\d+\.\d\dx the speed of imperative\)$", output, re.MULTILINE)
    # the first 20 lines of the JSON, then what the whole graph holds
    json_part = output.split("The first 20 lines of my_mlp-symbol.json:\n")[1]
    first_20 = json_part.splitlines()[:20]
    assert first_20[0] == "{" and '"nodes": [' in first_20[1]
    assert '"op": "null"' in "\n".join(first_20) and '"name": "data"' in "\n".join(first_20)
    assert "The graph's nodes by operator: null x7, FullyConnected x3, Activation x2" in output
    assert "max |imported - original| = 0.0" in output
    assert sorted(p.name for p in out.iterdir()) == ["my_mlp-0000.params",
                                                     "my_mlp-symbol.json"]


def test_hybridize_mlp_leaves_no_files(tmp_path):
    run_sample("hybridize_mlp.py", tmp_path, "--passes", "5")
    assert list(tmp_path.iterdir()) == []


def test_hybrid_forward_debug(tmp_path):
    output = run_sample("hybrid_forward_debug.py", tmp_path)
    parts = list(sections(output).items())
    assert len(parts) == 6, output
    (_, imperative), (_, trace_1), (_, trace_2), (_, ast_1), (_, ast_2), (_, source) = parts

    assert "F:  <module 'ast_hybrid.ndarray'" in imperative
    assert "<NDArray 1x4 @cpu(0)>" in imperative and "<NDArray 1x10 @cpu(0)>" in imperative

    # trace mode: symbols, on the first call only
    assert "F:  <module 'ast_hybrid.symbol'" in trace_1
    assert "x:  <Symbol data>" in trace_1
    assert re.search(r"^hidden:  <Symbol \w+>$", trace_1, re.MULTILINE)
    assert "F: " not in trace_2 and "x: " not in trace_2 and "hidden: " not in trace_2
    assert "output: " in trace_2

    # AST mode: real values, on every call
    for call in (ast_1, ast_2):
        for label in ("x: ", "hidden: "):
            assert call.count(label) == 1, call
        assert "Symbol" not in call, call
        x_text = call.split("x: ", 1)[1].split("hidden: ", 1)[0]
        assert len(re.findall(r"-?\d+\.\d+", x_text)) >= 4, call   # the 4 values of x
    assert ast_1.split("output: ")[1] == ast_2.split("output: ")[1]

    # the program AST mode compiled: readable Python pointing back at the sample's lines
    assert "def HybridNet(" in source and "print('x: '" in source
    assert re.search(r"# .*hybrid_forward_debug\.py:\d+$", source, re.MULTILINE), source


def test_control_flow(tmp_path):
    output = run_sample("control_flow.py", tmp_path)
    parts = list(sections(output).items())
    assert len(parts) == 3, output
    (_, imperative), (ast_title, ast_run), (trace_title, trace_run) = parts
    assert "AST mode" in ast_title and "trace" in trace_title
    for run in (imperative, ast_run):
        assert run.count("  right") == 3, run
        assert "takes the if branch" in run and "takes the else branch" in run
        assert "WRONG" not in run
    assert "trace mode refuses" in trace_run
    assert "cannot be traced" in trace_run
    assert re.search(r"control_flow\.py:\d+: if x\.sum\(\) > 0:", trace_run), trace_run


def test_deploy_onnx(tmp_path):
    out = tmp_path / "deploy"
    output = run_sample("deploy_onnx.py", tmp_path, "--epochs", "2", "--out", str(out))
    parts = sections(output)
    assert set(parts) == {"data", "training", "export", "onnx", "summary", "picture"}, output
    accuracy = float(re.search(r"^test accuracy: (\d\.\d+)$", parts["training"], re.M).group(1))
    assert accuracy > 0.5, output                      # ten classes: chance is 0.1
    differences = re.findall(r"^batch (\d+): max \|onnxruntime - ours\| = (\S+), same class "
                             r"for 100%$", parts["onnx"], re.M)
    assert [batch for batch, _ in differences] == ["1", "16"], output
    assert all(float(difference) < 1e-4 for _, difference in differences), output
    assert "Layer (type)" in parts["summary"] and "Total params: 15626" in parts["summary"]
    assert "conv0_fwd(Convolution)" in parts["summary"]
    written = {p.name for p in out.iterdir()}
    assert {"lenet-symbol.json", "lenet-0000.params", "lenet.onnx"} <= written
    assert "lenet.png" in written or "lenet.gv" in written, written
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert (out / "fashion-mnist" / name).is_file()
