"""Data-parallel rows: training samples per second on 1 and 2 MPI processes, and the time
per step spent summing gradients across them (`python -m ast_hybrid.bench --dist`)."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PROCESSES = (1, 2)
MODEL = "mlp256"            # each process trains on its own batch of 256: weak scaling
WARM_UP_STEPS = 5
# one core's worth each, so that 2 processes on 2 cores do not fight over BLAS threads
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                     "MKL_NUM_THREADS")}


def _ms(seconds):
    return statistics.median(seconds) * 1e3


def _worker(out, steps):
    """One process's measurements, written by rank 0 as JSON to `out`."""
    from .. import autograd, gluon, kvstore, nd
    from .models import make, make_labels
    kv = kvstore.create("dist_sync")
    net, x, _ = make(MODEL)
    net.hybridize()
    y = nd.array(make_labels(MODEL).astype(np.float32))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    loss_fn.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01},
                            kvstore=kv, update_on_kvstore=False)
    global_batch = x.shape[0] * kv.num_workers

    def step():
        start = time.perf_counter()
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        reduce_start = time.perf_counter()
        trainer.allreduce_grads()
        reduce_end = time.perf_counter()
        trainer.update(global_batch)
        return time.perf_counter() - start, reduce_end - reduce_start

    for _ in range(WARM_UP_STEPS):
        step()
    kv.barrier()
    timed = [step() for _ in range(steps)]
    # the collective alone: all workers arrive together, so no waiting for a slower one
    grads = [p.grad() for p in net.collect_params().values()]
    keys = [f"alone{i}" for i in range(len(grads))]
    kv.init(keys, grads)
    alone = []
    for _ in range(steps):
        kv.barrier()
        start = time.perf_counter()
        kv.pushpull(keys, grads)
        alone.append(time.perf_counter() - start)
    if kv.rank == 0:
        step_ms = _ms([t for t, _ in timed])
        row = {"processes": kv.num_workers, "batch_per_process": int(x.shape[0]),
               "step_ms": step_ms, "samples_per_s": global_batch / step_ms * 1e3,
               "allreduce_in_step_ms": _ms([r for _, r in timed]),
               "allreduce_alone_ms": _ms(alone),
               "gradient_bytes": int(sum(g.size * g.asnumpy().itemsize for g in grads)),
               "steps": steps}
        with open(out, "w") as f:
            json.dump(row, f)


def _mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


def run_distributed(steps, timeout_s=300):
    """{processes: row} for each of PROCESSES, or {'skipped': why} where MPI is missing."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return {"skipped": "mpi4py is not installed (pip install -e '.[dist]')"}
    if _mpiexec() is None:
        return {"skipped": "no mpiexec (the 'dist' extra brings MPICH)"}
    env = dict(os.environ, **ONE_THREAD)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in PROCESSES:
            out = os.path.join(tmp, f"{n}.json")
            proc = subprocess.run([_mpiexec(), "-n", str(n), sys.executable, "-m",
                                   "ast_hybrid.bench.distributed", out, str(steps)],
                                  env=env, capture_output=True, text=True, timeout=timeout_s)
            if proc.returncode != 0:
                raise RuntimeError(f"the {n}-process benchmark failed:\n{proc.stderr[-2000:]}")
            with open(out) as f:
                rows[str(n)] = json.load(f)
    one = rows[str(PROCESSES[0])]["samples_per_s"]
    for row in rows.values():
        row["speedup"] = row["samples_per_s"] / one
    return rows


def format_distributed(rows):
    if "skipped" in rows:
        return ["", f"Data-parallel training: skipped ({rows['skipped']})"]
    lines = ["", f"Data-parallel training step (kvstore 'dist_sync' over MPI, {MODEL}: "
             "256 samples per process, 1 BLAS thread each), median of steps:",
             f"{'processes':>9}  {'samples/s':>10}  {'speedup':>7}  {'step ms':>8}  "
             f"{'allreduce in step ms':>20}  {'allreduce alone ms':>18}"]
    for row in rows.values():
        lines.append(f"{row['processes']:>9}  {row['samples_per_s']:>10,.0f}  "
                     f"{row['speedup']:>7.2f}  {row['step_ms']:>8.2f}  "
                     f"{row['allreduce_in_step_ms']:>20.3f}  {row['allreduce_alone_ms']:>18.3f}")
    lines.append("(allreduce in step: waiting for the other worker included; alone: all "
                 "workers arriving together, the communication itself.)")
    return lines


if __name__ == "__main__":
    _worker(sys.argv[1], int(sys.argv[2]))
