"""`python -m ast_hybrid.bench`: the command line, which runs the measurements and reports them."""
import argparse
import platform
import sys
import time

import numpy as np

from . import mxnet_peer, zoo
from .blas import blas_info, blas_lines, limit_threads
from .distributed import format_distributed, run_distributed
from .forwards import TORCH_PEERS, VARIANTS
from .jax_peers import enable_jax
from .models import FIRST_CALL_ONLY, MODELS, TRAIN_MODELS
from .profiling import profile_missed
from .progress import Progress
from .report import format_table
from .runner import (add_cost_beyond_forward, first_call, measure_memory, run_models,
                     run_training)
from .targets import evaluate_targets
from .torch_peers import enable_torch
from .training import TRAIN_LR
from .writers import write_json, write_plot

DESCRIPTION = """\
How much Python overhead hybridize() removes, against the limit.

For each model it times imperative mode, trace mode (`hybridize(mode='trace')`), AST mode
(`hybridize()`) and the same model hand-written in plain numpy over the very same weights (the
limit for a numpy back end; see ast_hybrid/bench/numpy_forward.py). The variants are
interleaved in one process, round-robin over the repeats (with the order rotated each round)
so that drifts in clock speed or cache state hit them all alike; each figure is the median
over the repeats of the mean time per forward within one repeat.

It also measures first-call cost: the time of the first call of a freshly hybridized block
whose parameters are already initialized (source, passes, codegen, compile, one forward).

Training-step rows time one SGD step -- forward under `autograd.record()`,
`SoftmaxCrossEntropyLoss`, `backward()`, `Trainer.step(batch)` -- in each mode (the loss
hybridized with the net), against the same step written by hand in numpy; every variant's
first-step gradients and updated weights are checked against the hand-written step's before
anything is timed. Peak memory is tracemalloc's peak (numpy reports its buffers to it) over
one forward after a warm-up call.

The performance targets (AST mode's time and peak memory against plain numpy, imperative and
trace mode against AST mode, the first call's cost, the training step, which must also beat
TorchScript's and JAX jit's) are printed next to the figures, each marked met or missed (or
not measured, where a peer did not run); a missed target never makes the benchmark fail.
It writes files only when asked: the results with --json PATH, a chart with --plot PATH.

Peers, each timed in the same rounds as ours and checked against the numpy twin first, with
its ratio to AST mode: --peers adds PyTorch eager and TorchScript and JAX jit (each where it
imports; forwards and training steps: cross-entropy summed over the batch, autograd or
jax.value_and_grad, the same SGD update); --mxnet-python PATH adds MXNet 1.x, hybridized
with static_alloc and static_shape, running in that interpreter as a worker process on the
same weights (forwards and training steps). --zoo adds predict-mode rows of model_zoo.vision
networks at batch 1 and 8 (AST mode against imperative mode and MXNet) and their first
hybridized call.
With --dist it also times data-parallel training over MPI (the 'dist' extra): samples per
second on 1 and 2 processes and the time each step spends summing gradients.
With any peer, every system runs on one thread, numpy's BLAS included (threadpoolctl).

The BLAS numpy runs is printed first; where OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE hold its
kernel back, unset both in the benchmark's own command line only:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m ast_hybrid.bench ...

    python -m ast_hybrid.bench [--quick] [--models mlp1,lenet64] [--json PATH] [--plot PATH]
                               [--profile] [--peers] [--mxnet-python PATH] [--zoo]
                               [--repeats N] [--no-train] [--no-memory] [--dist]
"""


def parse_args(argv):
    all_names = list(MODELS) + list(FIRST_CALL_ONLY)
    p = argparse.ArgumentParser(prog="python -m ast_hybrid.bench", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="few repeats and short samples (for tests; figures are noisy)")
    p.add_argument("--models", default=None,
                   help=f"comma-separated subset of {','.join(all_names)} (default: all)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="write the results as JSON (default: print the tables only)")
    p.add_argument("--plot", default=None, metavar="PATH",
                   help="write a PNG bar chart (needs matplotlib)")
    p.add_argument("--peers", action="store_true",
                   help="also time PyTorch eager and TorchScript, and JAX jit, each where "
                        "it is installed")
    p.add_argument("--mxnet-python", default=None, metavar="PATH",
                   help="also time MXNet 1.x, run by this interpreter (one with mxnet "
                        "installed) as a worker process")
    p.add_argument("--zoo", action="store_true",
                   help="add model-zoo rows (predict mode, batch 1 and 8) and their first "
                        "calls, where ast_hybrid.gluon.model_zoo.vision exists")
    p.add_argument("--repeats", type=int, default=None, help="round-robin repeats")
    p.add_argument("--no-train", dest="train", action="store_false",
                   help=f"skip the training-step rows ({', '.join(TRAIN_MODELS)})")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="skip the peak-memory measurements")
    p.add_argument("--dist", action="store_true",
                   help="also time data-parallel training on 1 and 2 MPI processes")
    p.add_argument("--profile", action="store_true",
                   help="print a cProfile of AST mode for each model missing its AST/numpy "
                        "target, and of AST-mode training steps where the training target "
                        "is missed")
    args = p.parse_args(argv)
    if args.models:
        names = [n.strip() for n in args.models.split(",") if n.strip()]
        unknown = [n for n in names if n not in all_names]
        if unknown:
            p.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(all_names)}")
    else:
        names = all_names
    args.names = names
    return args


def _metadata(args, repeats, target_s, variants, peers, blas, mxnet_hello, notes):
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": bool(args.quick),
        "repeats": repeats,
        "sample_seconds": target_s,
        "variants": list(variants),
        "peers": list(peers) + (["mxnet"] if mxnet_hello else []),
        "peer_threads": 1 if peers or mxnet_hello else None,
        "blas": blas,
        "mxnet_worker": mxnet_hello,
        "notes": notes,
        "statistic": "median over repeats of the mean time per call within a repeat",
        "first_call": "first call of a fresh net, hybridized after its parameters were "
                      "initialized; median over fresh instances, after a warm-up compile "
                      "of an unrelated block",
        "training": "one step: forward under autograd.record(), SoftmaxCrossEntropyLoss "
                    "(hybridized with the net), backward(), gluon.Trainer 'sgd' "
                    f"(learning_rate {TRAIN_LR}) step(batch); numpy: the same step by hand",
        "peak_memory": "tracemalloc peak bytes over one forward after a warm-up call, "
                       "least of 3",
    }


# the model-zoo rows' forwards take up to seconds in imperative mode: fewer rounds
ZOO_REPEATS = 7
ZOO_FIRST_CALLS = 3


def _enable_peers(asked, notes):
    """The in-process peers' columns that can run, a note in `notes` for each that cannot."""
    if not asked:
        return ()
    peers = ()
    if enable_torch():
        peers += TORCH_PEERS
    else:
        notes.append("--peers: PyTorch is not installed; skipping the torch columns.")
    if enable_jax():
        peers += ("jax",)
    else:
        notes.append("--peers: JAX is not installed; skipping the jax column.")
    return peers


def main(argv=None):
    args = parse_args(argv)
    steady = [n for n in args.names if n in MODELS]
    first_names = list(args.names)
    repeats = args.repeats or (3 if args.quick else 25)
    target_s = 0.002 if args.quick else 0.02
    instances = {"default": 1, "res200": 1} if args.quick else {"default": 7, "res200": 3}

    notes = []
    peers = _enable_peers(args.peers, notes)
    mxnet = None
    if args.mxnet_python:
        mxnet, why_not = mxnet_peer.start(args.mxnet_python)
        if why_not:
            notes.append(f"{why_not}; skipping the mxnet column.")
    zoo_module = zoo.vision() if args.zoo else None
    if args.zoo and zoo_module is None:
        notes.append("--zoo: ast_hybrid.gluon.model_zoo.vision is not in this version; "
                     "skipping the model-zoo rows.")
    # one thread for numpy too where peers run on one: the comparison is of the systems,
    # not of how many cores each grabs
    if (peers or mxnet) and limit_threads(1) is None:
        notes.append("threadpoolctl is not installed, so numpy's BLAS keeps its own thread "
                     "count while the peers run on one thread (OPENBLAS_NUM_THREADS=1 on the "
                     "command line makes it one).")
    blas = blas_info()
    print("\n".join(blas_lines(blas)))
    if mxnet:
        print(f"MXNet {mxnet.hello['mxnet']} worker ({args.mxnet_python}, numpy "
              f"{mxnet.hello['numpy']}), one thread, features: "
              f"{', '.join(mxnet.hello['features'])}")
    for note in notes:
        print(note)
    sys.stdout.flush()
    mx_column = ("mxnet",) if mxnet else ()
    variants = VARIANTS + peers + mx_column

    train_names = [n for n in args.names if n in TRAIN_MODELS] if args.train else []
    memory_names = steady if args.memory else []
    zoo_repeats = min(repeats, ZOO_REPEATS)
    zoo_instances = 1 if args.quick else ZOO_FIRST_CALLS
    total = ((len(steady) + len(train_names)) * repeats + len(memory_names)
             + sum(instances.get(n, instances["default"]) for n in first_names)
             + (len(zoo.NETWORKS) * (len(zoo.BATCHES) * zoo_repeats + zoo_instances)
                if zoo_module else 0))
    progress = Progress(total)
    try:
        models = run_models(steady, repeats, target_s, peers, mxnet, progress)
        training = run_training(train_names, repeats, target_s, peers, mxnet, progress)
        memory = measure_memory(memory_names, progress)
        first = first_call(first_names, instances, progress)
        zoo_rows = zoo_first = {}
        if zoo_module:
            zoo_rows = zoo.run_zoo(zoo_module, zoo_repeats, target_s, mxnet, progress)
            zoo_first = zoo.first_calls(zoo_module, zoo_instances, progress)
    finally:
        if mxnet:
            mxnet.close()
    progress.close()
    add_cost_beyond_forward(first, models)
    targets = evaluate_targets(models, first, training, memory, zoo_rows, zoo_first)

    distributed = run_distributed(20 if args.quick else 200) if args.dist else None
    print(format_table(models, first, targets, variants, training, memory,
                       train_variants=variants, zoo=zoo_rows,
                       zoo_variants=zoo.VARIANTS + mx_column, zoo_first=zoo_first))
    if distributed:
        print("\n".join(format_distributed(distributed)))
    data = {
        "meta": _metadata(args, repeats, target_s, variants, peers, blas,
                          mxnet.hello if mxnet else None, notes),
        "models": models,
        "training": training,
        "peak_memory": memory,
        "first_call_ms": first,
        "model_zoo": zoo_rows,
        "model_zoo_first_call_ms": zoo_first,
        "targets": targets,
    }
    if distributed:
        data["distributed"] = distributed
    if args.profile:
        text = profile_missed(models, targets, training)
        if text:
            print("\n" + text)
            data["profiles"] = text
    if args.json:
        write_json(args.json, data)
        print(f"\nresults written to {args.json}")
    if args.plot:
        if write_plot(args.plot, models, variants):
            print(f"plot written to {args.plot}")
        else:
            print("--plot: matplotlib is not installed (pip install matplotlib, or the "
                  "'plot' extra); no plot written.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
