"""mx.kv: the local store's MXNet semantics, the Trainer's kvstore choice, and data-parallel
training over MPI (`mpiexec -n 2` on this machine, each run bounded in time)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import ast_hybrid as mx
from ast_hybrid import autograd, gluon, nd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kvstore_worker as worker  # noqa: E402

MPI_RUN_TIMEOUT_S = 90


# -- one process ---------------------------------------------------------------------------

def test_local_push_sums_the_list_and_pull_copies():
    kv = mx.kv.create("local")
    assert (kv.type, kv.rank, kv.num_workers) == ("local", 0, 1)
    kv.init("w", nd.zeros((2, 3)))
    kv.push("w", [nd.ones((2, 3)), nd.full((2, 3), 2.0)])
    out = [nd.zeros((2, 3)), nd.zeros((2, 3))]
    kv.pull("w", out=out)
    for o in out:
        np.testing.assert_array_equal(o.asnumpy(), np.full((2, 3), 3.0))
    kv.pushpull(["w"], [nd.ones((2, 3))])        # out=None: the sum written back
    with pytest.raises(mx.MXNetError, match="duplicate init"):
        kv.init("w", nd.zeros((2, 3)))
    with pytest.raises(mx.MXNetError, match="not been initialized"):
        kv.push("other", nd.ones((1,)))
    with pytest.raises(mx.MXNetError, match="shape"):
        kv.push("w", nd.ones((3, 2)))


def test_local_broadcast_and_optimizer_on_the_store(tmp_path):
    kv = mx.kv.create("local")
    out = nd.zeros((2,))
    kv.broadcast(0, nd.array([1.0, 2.0]), out=out)
    np.testing.assert_array_equal(out.asnumpy(), [1.0, 2.0])
    kv.set_optimizer(mx.optimizer.create("sgd", learning_rate=0.5, momentum=0.9))
    kv.pushpull(0, nd.array([1.0, 1.0]), out=out)
    np.testing.assert_allclose(out.asnumpy(), [0.5, 1.5])
    kv.save_optimizer_states(str(tmp_path / "s.npz"))
    kv.pushpull(0, nd.array([1.0, 1.0]), out=out)
    after = out.asnumpy().copy()
    kv.load_optimizer_states(str(tmp_path / "s.npz"))
    kv.pull(0, out=out)
    kv._store[0][...] = [0.5, 1.5]
    kv.pushpull(0, nd.array([1.0, 1.0]), out=out)
    np.testing.assert_allclose(out.asnumpy(), after)       # the momentum came back


@pytest.mark.parametrize("name", ["foo", "dist_async", "horovod"])
def test_unsupported_types_are_errors(name):
    with pytest.raises(mx.MXNetError, match=repr(name)):
        mx.kv.create(name)
    net = gluon.nn.Dense(2, in_units=2)
    net.initialize()
    with pytest.raises(mx.MXNetError, match=repr(name)):
        gluon.Trainer(net.collect_params(), "sgd", kvstore=name)


def test_trainer_refuses_gradient_compression():
    net = gluon.nn.Dense(2, in_units=2)
    net.initialize()
    with pytest.raises(NotImplementedError, match="compression"):
        gluon.Trainer(net.collect_params(), "sgd", compression_params={"type": "2bit"})


def _train_local(kvstore, update_on_kvstore=None, steps=3):
    net = worker.make_net(0)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1,
                                                          "momentum": 0.9},
                            kvstore=kvstore, update_on_kvstore=update_on_kvstore)
    xs, ys = worker.global_batches(workers=1)
    for step in range(steps):
        with autograd.record():
            loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(nd.array(xs[step])),
                                                        nd.array(ys[step]))
        loss.backward()
        trainer.step(worker.BATCH)
    return trainer, [p.data().asnumpy() for p in net.collect_params().values()]


def test_trainer_with_a_local_store_computes_what_it_does_without():
    _, plain = _train_local("device")
    trainer, on_store = _train_local(mx.kv.create("local"))
    assert trainer._update_on_kvstore is True           # MXNet's default for a KVStore
    with pytest.raises(AssertionError, match="update_on_kvstore"):
        trainer.allreduce_grads()
    _, off_store = _train_local(mx.kv.create("local"), update_on_kvstore=False)
    for a, b, c in zip(plain, on_store, off_store):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_split_sampler_gives_equal_disjoint_parts():
    parts = [list(gluon.data.SplitSampler(10, 3, i)) for i in range(3)]
    assert parts == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    np.random.seed(0)
    shuffled = list(gluon.data.SplitSampler(10, 3, 1, shuffle=True))
    assert sorted(shuffled) == [3, 4, 5] and len(gluon.data.SplitSampler(10, 3, 1)) == 3
    with pytest.raises(ValueError):
        gluon.data.SplitSampler(10, 2, 2)


# -- two processes over MPI ----------------------------------------------------------------

def _mpiexec():
    found = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return found if os.path.exists(found) else shutil.which("mpiexec")


def _launch(scenario, out_dir, timeout_env=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    if timeout_env is not None:
        env["AST_HYBRID_KVSTORE_TIMEOUT"] = str(timeout_env)
    return subprocess.run([_mpiexec(), "-n", "2", sys.executable,
                           os.path.join(HERE, "kvstore_worker.py"), scenario, str(out_dir)],
                          env=env, capture_output=True, text=True, timeout=MPI_RUN_TIMEOUT_S)


@pytest.fixture(scope="module")
def mpi():
    """Skip, saying why, where MPI cannot start two processes here."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("mpi4py is not installed (pip install -e '.[dist]')")
    if _mpiexec() is None:
        pytest.skip("no mpiexec: install the 'dist' extra (it brings MPICH)")
    probe = subprocess.run([_mpiexec(), "-n", "2", sys.executable, "-c",
                            "from mpi4py import MPI; assert MPI.COMM_WORLD.Get_size() == 2"],
                           capture_output=True, text=True, timeout=MPI_RUN_TIMEOUT_S)
    if probe.returncode != 0:
        pytest.skip(f"MPI cannot start 2 processes here: {probe.stderr.strip()[-500:]}")


@pytest.fixture(scope="module")
def good_run(mpi, tmp_path_factory):
    out = tmp_path_factory.mktemp("kv")
    proc = _launch("good", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [dict(np.load(out / f"rank{r}.npz")) for r in range(2)]


def test_pushes_are_summed_exactly_over_workers_and_devices(good_run):
    for saved in good_run:
        assert int(saved["workers"]) == 2 and str(saved["type"]) == "dist_sync"
        for key in (3, 4):
            a, b = (worker.pushed(r, key) for r in range(2))
            # each worker sums its two arrays, then the two workers' sums are added
            np.testing.assert_array_equal(saved[f"sum{key}"], (a[0] + a[1]) + (b[0] + b[1]))


def test_broadcast_gives_rank_0s_value(good_run):
    for saved in good_run:
        np.testing.assert_array_equal(saved["broadcast"], np.full((2, 2), 1.0))


@pytest.mark.parametrize("update_on_kvstore", [None, False])
def test_five_steps_equal_one_process_on_the_concatenated_batches(good_run, update_on_kvstore):
    tag = str(update_on_kvstore)
    # the workers started from different weights; rank 0's were broadcast at the first step
    assert not np.array_equal(good_run[0][f"init{tag}"], good_run[1][f"init{tag}"])
    assert bool(good_run[0][f"on_kvstore{tag}"]) is (update_on_kvstore is None)
    net = worker.make_net(seed=0)
    first, last, _ = worker.train(net, None, rank=0, workers=1)   # one worker: global batches
    for i in range(len(last)):
        # the workers hold the very same values
        np.testing.assert_array_equal(good_run[0][f"last{tag}_{i}"],
                                      good_run[1][f"last{tag}_{i}"])
        # one process on the whole batch: equal up to float32 rounding of the sum's order
        np.testing.assert_allclose(good_run[0][f"first{tag}_{i}"], first[i],
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(good_run[0][f"last{tag}_{i}"], last[i],
                                   rtol=1e-5, atol=1e-6)


def _failing_run(mpi, tmp_path, scenario, **kwargs):
    proc = _launch(scenario, tmp_path, **kwargs)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "finished" not in proc.stdout
    return proc.stdout + proc.stderr


def test_a_worker_that_raises_stops_every_worker(mpi, tmp_path):
    out = _failing_run(mpi, tmp_path, "raise")
    assert "ValueError: worker failure on purpose" in out
    assert "worker rank 1 of 2 stopped on an uncaught ValueError; aborting every worker" in out


def test_a_worker_that_ends_early_is_named_by_the_one_waiting(mpi, tmp_path):
    out = _failing_run(mpi, tmp_path, "exit")
    assert "WorkerFailure: worker rank 1 of 2 has ended after" in out
    assert "while rank 0 waits in collective" in out


def test_a_worker_killed_by_a_signal_stops_every_worker(mpi, tmp_path):
    out = _failing_run(mpi, tmp_path, "kill")
    pid = out.split("rank 1 pid ")[1].split()[0]
    # MPI's launcher ends the others at once, naming the lost worker by its process id
    assert f"PID {pid} " in out and "signal 9" in out.lower()


def test_a_worker_that_stops_answering_ends_the_wait_after_the_timeout(mpi, tmp_path):
    out = _failing_run(mpi, tmp_path, "sleep", timeout_env=2)
    assert "rank 0 of 2 waited 2 s in collective" in out


def test_different_shapes_on_the_workers_are_an_error_at_init(mpi, tmp_path):
    out = _failing_run(mpi, tmp_path, "shapes")
    assert "the workers disagree (shape (8, 4) float32 on rank 0, shape (9, 4) float32 on " \
           "rank 1)" in out


def test_values_unequal_before_a_late_broadcast_are_an_error(mpi, tmp_path):
    out = _failing_run(mpi, tmp_path, "deferred")
    assert "was initialized differently on the workers" in out


def test_the_distributed_sample_equals_one_process(mpi, tmp_path):
    sample = os.path.join(os.path.dirname(HERE), "samples", "train_distributed.py")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    proc = subprocess.run([_mpiexec(), "-n", "2", sys.executable, sample, "--epochs", "1"],
                          env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=MPI_RUN_TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 worker(s), 32 samples each per step: global batch 64" in proc.stdout
    assert "every worker holds rank 0's weights" in proc.stdout
    assert "losses and final weights equal one process's" in proc.stdout


def test_the_benchmark_rows_for_1_and_2_processes(mpi):
    from ast_hybrid.bench.distributed import format_distributed, run_distributed
    rows = run_distributed(steps=3, timeout_s=MPI_RUN_TIMEOUT_S)
    assert list(rows) == ["1", "2"]
    for n, row in rows.items():
        assert row["processes"] == int(n) and row["samples_per_s"] > 0
        assert row["allreduce_in_step_ms"] > 0 and row["allreduce_alone_ms"] > 0
    assert rows["1"]["speedup"] == 1.0
    assert "samples/s" in "\n".join(format_distributed(rows))


def test_a_gradient_fresh_on_some_workers_only_is_an_error(mpi, tmp_path):
    out = _failing_run(mpi, tmp_path, "stale")
    assert "was updated by backward on 1 of 2 workers since the last step" in out


def test_setting_a_parameter_under_update_on_kvstore_is_an_error():
    net = worker.make_net(0)
    trainer = gluon.Trainer(net.collect_params(), "sgd", kvstore=mx.kv.create("local"))
    x, y = (nd.array(a[0]) for a in worker.global_batches())
    for _ in range(2):
        with autograd.record():
            loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(x), y)
        loss.backward()
        if trainer._kvstore is not None:
            net[0].weight.set_data(np.zeros(net[0].weight.shape))
            with pytest.raises(mx.MXNetError, match="kvstore updates its own copy"):
                trainer.step(x.shape[0])
            return
        trainer.step(x.shape[0])
