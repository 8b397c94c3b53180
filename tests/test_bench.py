"""`python -m ast_hybrid.bench`: runs end to end and writes well-formed results (no timing
assertions: the figures are machine-dependent, and a missed target never fails the run)."""
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MXNET_PYTHON = "/tmp/mx/bin/python"    # an interpreter with mxnet 1.9.1, where one is set up
needs_mxnet = pytest.mark.skipif(not os.path.exists(MXNET_PYTHON),
                                 reason=f"no MXNet interpreter at {MXNET_PYTHON}")


def _bench(cwd, *args, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "ast_hybrid.bench", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _run(tmp_path, *extra):
    out = tmp_path / "results.json"
    proc = _bench(tmp_path, "--quick", "--models", "mlp1,mlp256", "--json", str(out), *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def test_quick_bench_writes_results(tmp_path):
    proc, data = _run(tmp_path)
    assert set(data) >= {"meta", "models", "training", "peak_memory", "first_call_ms",
                         "targets"}
    assert data["meta"]["quick"] is True
    assert list(data["models"]) == ["mlp1", "mlp256"]
    variants = ("imperative", "trace", "ast", "numpy")

    def check_timed_row(row):
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

    for name in ("mlp1", "mlp256"):
        check_timed_row(data["models"][name])
        # training steps: every mode's first-step loss, gradients and updated weights equal
        # the hand-written numpy step's
        check_timed_row(data["training"][name])
        assert data["training"][name]["model"] == name
        memory = data["peak_memory"][name]
        assert set(memory["peak_bytes"]) == set(variants)
        assert all(isinstance(b, int) and b > 0 for b in memory["peak_bytes"].values())
        assert memory["ratio_to_numpy"]["numpy"] == 1.0
    first = data["first_call_ms"]["mlp1"]
    assert first["ast"]["median_ms"] > 0 and first["trace"]["median_ms"] > 0
    for t in data["targets"]:
        assert set(t) >= {"target", "measures", "model", "measured", "bound", "met"}
        assert isinstance(t["met"], bool) or (t["met"] is None and t["measured"] is None
                                              and t["not_measured"])
    marked = {(t["target"], t["model"]) for t in data["targets"]}
    assert ("train imperative / AST", "mlp1") in marked
    # without --peers, the training step's peer targets say they were not measured
    unmeasured = {t["target"]: t["not_measured"] for t in data["targets"] if t["met"] is None}
    assert unmeasured == {"train TorchScript / AST (AST faster)":
                          "needs --peers and torch installed",
                          "train JAX jit / AST (AST faster)": "needs --peers and jax installed"}
    assert "[n/a   ] train JAX jit / AST (AST faster)" in proc.stdout
    assert ("peak memory AST / numpy", "mlp256") in marked
    assert ("peak memory AST / numpy", "mlp1") not in marked     # large batch only
    # which BLAS numpy ran, first, in the tables and in the metadata
    out = proc.stdout
    assert out.startswith("BLAS: ")
    blas = data["meta"]["blas"]
    assert set(blas) >= {"threadpoolctl", "libraries", "held_back_by", "advice"}
    if blas["libraries"]:
        assert set(blas["libraries"][0]) >= {"internal_api", "version", "architecture",
                                             "num_threads", "threading_layer"}
    # the tables and the progress bar
    assert "mlp1" in out and "Training step" in out and "Peak memory" in out
    assert "Targets" in out and "MISMATCH" not in out
    # targets are named by what they measure, not by tracker labels
    assert "issue" not in out.lower() and "issue" not in json.dumps(data).lower()
    assert "[" in proc.stderr and "]" in proc.stderr
    # written by rename: no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_training_and_memory_can_be_skipped(tmp_path):
    _, data = _run(tmp_path, "--no-train", "--no-memory")
    assert data["training"] == {} and data["peak_memory"] == {}
    assert not any("train" in t["target"] or "memory" in t["target"] for t in data["targets"])


def test_numpy_training_references_match_the_library():
    """The hand-written numpy training steps (MLP and LeNet) give the library's imperative
    gradients and SGD update, checked directly (the bench checks every mode the same way)."""
    import numpy as np
    from ast_hybrid import autograd, gluon, nd
    from ast_hybrid.bench import TRAIN_MODELS, make, make_labels
    for name in ("mlp1", "lenet64"):
        model, builder, _ = TRAIN_MODELS[name]
        net, x, xn = make(model)
        labels = make_labels(name)
        reference = builder(net, 0.01)
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01})
        with autograd.record():
            loss = loss_fn(net(x), nd.array(labels.astype(np.float32)))
        loss.backward()
        params = list(net.collect_params().values())
        grads = [p.grad().asnumpy().copy() for p in params]
        trainer.step(xn.shape[0])
        ref_loss = reference.step(xn, labels)
        assert np.allclose(loss.asnumpy(), ref_loss, rtol=1e-4, atol=1e-5)
        for p, g, rg, rw in zip(params, grads, reference.grads(), reference.weights()):
            assert np.allclose(g, rg, rtol=1e-4, atol=1e-5), (name, p.name)
            assert np.allclose(p.data().asnumpy(), rw, rtol=1e-4, atol=1e-5), (name, p.name)


def test_writes_no_file_unless_asked(tmp_path):
    proc = _bench(tmp_path, "--quick", "--models", "mlp1", "--no-train", "--no-memory")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Targets" in proc.stdout and "written" not in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_unknown_model_is_an_error(tmp_path):
    proc = _bench(tmp_path, "--models", "nope", timeout=60)
    assert proc.returncode == 2 and "unknown model" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_core_never_imports_the_benchmark():
    """The benchmark sits on top of the library: no module outside ast_hybrid/bench imports
    it, at the top or inside a function."""
    import ast
    package = os.path.join(ROOT, "ast_hybrid")
    offenders = []
    for folder, _, files in os.walk(package):
        if os.path.relpath(folder, package).split(os.sep)[0] == "bench":
            continue
        for name in (f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    imported = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    imported = [node.module or ""] + [a.name for a in node.names]
                else:
                    continue
                if any(part == "bench" for n in imported for part in n.split(".")):
                    offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_progress_bar_uses_tqdm_or_a_plain_fallback(monkeypatch, with_tqdm):
    from ast_hybrid.bench.progress import Progress
    if with_tqdm:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)
    stream = io.StringIO()
    bar = Progress(3, desc="epoch 1/2", stream=stream)
    for i in range(3):
        bar.step(f"loss {i}")
    bar.close()
    text = stream.getvalue()
    assert "epoch 1/2" in text and "3/3" in text and "loss 2" in text
    assert ("100%|" in text) == with_tqdm
    assert ("[" + "#" * 30 + "]" in text) != with_tqdm


def test_blas_report_warns_when_the_environment_holds_the_kernel_back():
    from ast_hybrid.bench.blas import blas_info, blas_lines, held_back
    environ = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "262144", "HOME": "/"}
    assert held_back(environ) == {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "262144"}
    assert held_back({"HOME": "/"}) == {}
    info = blas_info()
    info["held_back_by"] = held_back(environ)
    info["advice"] = "unset them: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python ..."
    warning = blas_lines(info)[-1]
    assert warning.startswith("WARNING: OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=262144")
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE" in warning
    assert not any(line.startswith("WARNING") for line in blas_lines(
        {**info, "held_back_by": {}, "advice": None}))


def test_model_zoo_rows_are_skipped_with_a_note_without_the_package(monkeypatch, capsys):
    from ast_hybrid.bench import __main__ as bench_main
    from ast_hybrid.bench import zoo
    monkeypatch.setattr(zoo, "vision", lambda: None)
    assert bench_main.main(["--quick", "--models", "mlp1", "--no-train", "--no-memory",
                            "--repeats", "1", "--zoo"]) == 0
    out = capsys.readouterr().out
    assert "--zoo: ast_hybrid.gluon.model_zoo.vision is not in this version" in out
    assert "Model zoo" not in out


@needs_mxnet
def test_mxnet_worker_builds_the_same_models_and_times_them():
    """The worker protocol: the same weights give the numpy twin's outputs and training
    step, timing replies are positive, and a failed request leaves the worker serving."""
    from ast_hybrid.bench import MODELS, TRAIN_MODELS, make, make_labels
    from ast_hybrid.bench.mxnet_peer import MXNetWorker, WorkerError
    from ast_hybrid.bench.weights import param_arrays
    worker = MXNetWorker(MXNET_PYTHON)
    try:
        assert worker.hello["mxnet"].startswith("1.")
        assert worker.hello["env"]["OMP_NUM_THREADS"] == "1"
        net, _, xn = make("lenet1")
        model, first = worker.build("lenet", {}, param_arrays(net), xn)
        assert np.allclose(first["output"], MODELS["lenet1"].numpy_forward(net)(xn),
                           rtol=1e-4, atol=1e-5)
        assert model.sample(3) > 0
        with pytest.raises(WorkerError, match="parameters"):
            worker.build("mlp", {}, param_arrays(net), xn)
        model.free()
        net, _, xn = make("mlp1")
        labels = make_labels("mlp1")
        reference = TRAIN_MODELS["mlp1"].numpy_step(net, 0.01)
        step, first = worker.build("mlp", {}, param_arrays(net), xn,
                                   labels=labels.astype(np.float32), lr=0.01)
        assert np.allclose(first["loss"], reference.step(xn, labels), rtol=1e-4, atol=1e-5)
        for got, want in zip(first["weights"], reference.weights()):
            assert np.allclose(got, want, rtol=1e-4, atol=1e-5)
        assert step.sample(2) > 0
    finally:
        worker.close()


@needs_mxnet
def test_bench_times_mxnet_beside_ours(tmp_path):
    out = tmp_path / "results.json"
    proc = _bench(tmp_path, "--quick", "--models", "mlp1", "--no-memory", "--repeats", "2",
                  "--mxnet-python", MXNET_PYTHON, "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["meta"]["mxnet_worker"]["mxnet"].startswith("1.")
    assert "mxnet" in data["meta"]["peers"]
    for table in ("models", "training"):
        row = data[table]["mlp1"]
        assert row["reference_matches"]["mxnet"] is True, row["peer_errors"]
        assert row["times_us"]["mxnet"] > 0 and row["ratio_to_ast"]["mxnet"] > 0
    assert "mxnet us (x AST)" in proc.stdout and "MXNet 1." in proc.stdout


def test_mxnet_worker_imports_only_mxnet_numpy_and_the_standard_library():
    """It runs in MXNet's interpreter, which has no ast_hybrid (nor anything else)."""
    import ast
    path = os.path.join(ROOT, "ast_hybrid", "bench", "mxnet_worker.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import"
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"mxnet", "numpy"}


def test_jax_peer_computes_what_the_numpy_twins_compute():
    pytest.importorskip("jax")
    from ast_hybrid.bench import MODELS, make
    from ast_hybrid.bench.jax_peers import jax_forward
    for name in ("mlp1", "lenet1", "rnn1", "res50"):
        spec = MODELS[name]
        net, _, xn = make(name)
        got = jax_forward(spec.kind, net)(xn)
        assert np.allclose(got, spec.numpy_forward(net)(xn), rtol=1e-4, atol=1e-5), name


def _numpy_steps(name, count):
    """The numpy twin's (per-sample losses, gradients, updated weights) after each of
    `count` steps from the bench's weights of training row `name`, and what a peer needs
    to build its step: (kind, net, x, labels)."""
    from ast_hybrid.bench import MODELS, TRAIN_MODELS, make, make_labels
    model, builder, _ = TRAIN_MODELS[name]
    net, _, xn = make(model)
    labels = make_labels(name)
    reference = builder(net, 0.01)
    steps = []
    for _ in range(count):
        loss = reference.step(xn, labels)
        steps.append((loss, [g.copy() for g in reference.grads()],
                      [w.copy() for w in reference.weights()]))
    return steps, (MODELS[model].kind, net, xn, labels)


def _assert_steps_as_numpy(build):
    """A training peer's steps -- checked, timed, checked -- give the numpy twin's losses,
    gradients and updated weights on MLP (batch 256: sum, not mean, over the batch) and
    LeNet (batch 64)."""
    for name in ("mlp256", "lenet64"):
        want, args = _numpy_steps(name, 3)
        for peer, (step, checked_step) in build(*args).items():
            got = [checked_step()]
            step()
            got.append(checked_step())
            for (loss, grads, weights), (wloss, wgrads, wweights) in zip(got, want[::2]):
                assert np.allclose(loss, wloss, rtol=1e-4, atol=1e-5), (name, peer)
                for g, wg, w, ww in zip(grads, wgrads, weights, wweights):
                    assert g.shape == wg.shape and w.shape == ww.shape, (name, peer)
                    assert np.allclose(g, wg, rtol=1e-4, atol=1e-5), (name, peer)
                    assert np.allclose(w, ww, rtol=1e-4, atol=1e-5), (name, peer)


def test_torch_training_peers_step_as_the_numpy_step():
    pytest.importorskip("torch")
    from ast_hybrid.bench.torch_peers import torch_training
    _assert_steps_as_numpy(lambda *args: torch_training(*args, 0.01))


def test_jax_training_peer_steps_as_the_numpy_step():
    pytest.importorskip("jax")
    from ast_hybrid.bench.jax_peers import jax_training
    _assert_steps_as_numpy(lambda *args: {"jax": jax_training(*args, 0.01)})


def test_a_failing_or_wrong_training_peer_is_reported_not_fatal(monkeypatch):
    """A peer that fails to build, fails its first step, or steps differently from the numpy
    twin: the row says so, its column is left empty (or marked), and the modes still run."""
    from ast_hybrid.bench import training

    def fails_to_build(*args):
        raise ImportError("no torch here")

    def fails_to_step():
        raise RuntimeError("step failed")

    def wrong_step(kind, net, x, labels, lr):
        steps, _ = _numpy_steps("mlp1", 1)
        loss, grads, weights = steps[0]
        return lambda: None, lambda: (loss, grads, [w + 1e-3 for w in weights])

    class BrokenWorker:
        def build(self, *args, **kwargs):
            raise OSError("worker gone")

    monkeypatch.setattr(training, "torch_training", fails_to_build)
    monkeypatch.setattr(training, "jax_training", lambda *args: (lambda: None, fails_to_step))
    fns, info = training.setup_training("mlp1", peers=("torch", "torchscript", "jax"),
                                        mxnet=BrokenWorker())
    assert info["peer_errors"] == {"torch": "ImportError: no torch here",
                                   "jax": "RuntimeError: step failed",
                                   "mxnet": "OSError: worker gone"}
    assert not {"torch", "torchscript", "jax", "mxnet"} & set(fns) and "ast" in fns
    assert info["ast_compile_error"] is None
    assert all(info["reference_matches"].values())
    monkeypatch.setattr(training, "jax_training", wrong_step)
    fns, info = training.setup_training("mlp1", peers=("jax",))
    assert info["reference_matches"]["jax"] is False and info["max_abs_diff"]["jax"] >= 1e-3


def test_training_peer_targets_say_whether_ast_beat_them_or_why_not_measured():
    from ast_hybrid.bench.report import format_table
    from ast_hybrid.bench.targets import evaluate_targets
    times = {"imperative": 700.0, "trace": 300.0, "ast": 200.0, "numpy": 150.0,
             "torch": 320.0, "torchscript": 180.0}
    row = {"times_us": times, "ratio_to_ast": {v: t / 200.0 for v, t in times.items()},
           "ratio_to_numpy": {v: t / 150.0 for v, t in times.items()},
           "imperative_over_ast": 3.5, "trace_over_ast": 1.5,
           "reference_matches": {v: True for v in times}, "ast_compile_error": None,
           "peer_errors": {"jax": "RuntimeError: XLA failed"}}
    targets = evaluate_targets({}, {}, {"mlp1": row})
    by_name = {t["target"]: t for t in targets}
    torchscript = by_name["train TorchScript / AST (AST faster)"]
    assert torchscript["met"] is False and torchscript["measured"] == 0.9
    jax = by_name["train JAX jit / AST (AST faster)"]
    assert jax["met"] is None and jax["measured"] is None
    assert jax["not_measured"] == "jax failed: RuntimeError: XLA failed"
    text = format_table({}, {}, targets, (), {"mlp1": row},
                        train_variants=tuple(times))
    assert "[MISSED] train TorchScript / AST (AST faster) mlp1" in text
    assert "0.900  (target > 1)" in text
    assert ("[n/a   ] train JAX jit / AST (AST faster)     mlp1             not measured "
            "(jax failed: RuntimeError: XLA failed)") in text
    assert "torchscript us (x AST)" in text and "180.0 (0.90)" in text
    row["times_us"]["torchscript"] = 250.0
    row["ratio_to_ast"]["torchscript"] = 1.25
    assert {t["target"]: t["met"] for t in evaluate_targets({}, {}, {"mlp1": row})}[
        "train TorchScript / AST (AST faster)"] is True


def test_bench_times_the_training_peers_beside_ours(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    out = tmp_path / "results.json"
    proc = _bench(tmp_path, "--quick", "--models", "mlp1", "--no-memory", "--repeats", "2",
                  "--peers", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    row = data["training"]["mlp1"]
    assert row["peer_errors"] == {}
    for peer in ("torch", "torchscript", "jax"):
        assert row["reference_matches"][peer] is True, (peer, row["max_abs_diff"][peer])
        assert row["times_us"][peer] > 0 and row["ratio_to_ast"][peer] > 0
    measured = {t["target"]: t for t in data["targets"] if "AST faster" in t["target"]
                and t["target"].startswith("train")}
    assert set(measured) == {"train TorchScript / AST (AST faster)",
                             "train JAX jit / AST (AST faster)"}
    assert all(isinstance(t["met"], bool) for t in measured.values())
    training_table = proc.stdout[proc.stdout.index("Training step"):]
    assert "jax us (x AST)" in training_table and "torchscript us (x AST)" in training_table
