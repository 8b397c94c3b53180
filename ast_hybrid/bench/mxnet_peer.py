"""MXNet 1.x as a peer: a worker in its own interpreter, driven over pipes, timed with ours."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mxnet_worker.py")

# one thread everywhere in MXNet, as the in-process peers: its engine's workers, OpenMP
# (oneDNN's convolutions) and its BLAS
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "MXNET_CPU_WORKER_NTHREADS": "1",
                   "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class WorkerError(RuntimeError):
    """The worker failed a request (its traceback is the message) or exited."""


class MXNetWorker:
    """The worker process running `python` (an interpreter with mxnet 1.x); `hello` is what
    it said it runs (versions, MXNet's enabled features, its thread settings)."""

    def __init__(self, python):
        self._dir = tempfile.mkdtemp(prefix="ast_hybrid_bench_")
        env = {**os.environ, **SINGLE_THREADED}
        self._files = 0
        self._proc = subprocess.Popen([python, WORKER], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
        self.hello = self._reply()

    def _reply(self):
        line = self._proc.stdout.readline()
        if not line:
            raise WorkerError(f"the MXNet worker exited (status {self._proc.wait()}); its "
                              "stderr above says why")
        data = json.loads(line)
        if not data.pop("ok"):
            raise WorkerError(data["error"])
        return data

    def request(self, op, **fields):
        self._proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self._proc.stdin.flush()
        return self._reply()

    def _save(self, array):
        self._files += 1
        path = os.path.join(self._dir, f"array_{self._files}.npy")
        np.save(path, np.asarray(array))
        return path

    def build(self, kind, args, weights, x, labels=None, lr=None):
        """(model, what its first run gave as numpy: {'output'} for a forward, {'loss',
        'weights'} for a training step) for the model `kind` with `weights` (numpy arrays in
        collect_params' order) on input `x`; a training step when `labels` is given."""
        out_dir = tempfile.mkdtemp(dir=self._dir)
        train = None if labels is None else {"labels": self._save(labels), "lr": lr}
        reply = self.request("build", kind=kind, args=args,
                             weights=[self._save(w) for w in weights], input=self._save(x),
                             out_dir=out_dir, train=train)
        if train is None:
            first = {"output": np.load(os.path.join(out_dir, "output.npy"))}
        else:
            first = {"loss": np.load(os.path.join(out_dir, "loss.npy")),
                     "weights": [np.load(os.path.join(out_dir, f"weight_{i}.npy"))
                                 for i in range(len(weights))]}
        shutil.rmtree(out_dir)
        return RemoteModel(self, reply["id"]), first

    def close(self):
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


class RemoteModel:
    """A model living in the worker. `sample(number)` is what the timing loop calls: the mean
    seconds of `number` calls, timed by the worker around its own loop (so the pipe's round
    trip is not in the figure)."""

    def __init__(self, worker, model_id):
        self._worker = worker
        self._id = model_id

    def sample(self, number):
        return self._worker.request("sample", id=self._id, number=number)["seconds"]

    def free(self):
        self._worker.request("free", id=self._id)


def start(python):
    """(worker, None), or (None, why not) where the worker cannot start."""
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        return None, f"--mxnet-python {python}: no such executable"
    try:
        return MXNetWorker(python), None
    except (OSError, WorkerError, ValueError) as error:
        print(error, file=sys.stderr)
        return None, f"--mxnet-python {python}: the MXNet worker did not start ({error})"


def model_args(kind, net):
    """The keyword arguments the worker's builder of `kind` needs to match `net`."""
    if kind == "residual":
        return {"blocks": len(net)}
    if kind == "rnn":
        hidden, in_units = net.dense_x.weight.shape
        return {"steps": net.steps, "hidden": hidden, "in_units": in_units}
    return {}
