"""The performance targets, and which of them a run met or missed."""

TARGET_AST_NUMPY_BATCH1 = 1.15
TARGET_AST_NUMPY_LARGE = 1.05
TARGET_IMPERATIVE_OVER_AST = 3.0
TARGET_FIRST_CALL_MLP_MS = 3.0
TARGET_FIRST_CALL_200_MS = 300.0
TARGET_TRAIN_IMPERATIVE_OVER_AST = 2.0   # the lecture's MLP at batch 1
TARGET_PEAK_MEMORY_AST_NUMPY = 1.2       # at large batch, where the arrays dominate
TARGET_TRAIN_AST_NUMPY = 1.25            # the lecture's MLP at batch 1
TARGET_ZOO_AST_MXNET = 1.3               # every model-zoo network at batch 1
TARGET_ZOO_AST_MXNET_FAST = 1.0          # ... and these no slower than MXNet
ZOO_FAST = ("resnet18_v1", "mobilenet_v2_1_0")
TARGET_FIRST_CALL_ZOO_MS = 300.0
LARGE_BATCH = {"mlp256", "lenet64"}

AST_OVER_NUMPY = "AST / numpy"
IMPERATIVE_OVER_AST = "imperative / AST"
TRACE_OVER_AST = "trace / AST (AST faster)"
FIRST_AST_CALL = "first AST call (ms)"
PEAK_MEMORY_AST_OVER_NUMPY = "peak memory AST / numpy"
TRAIN_IMPERATIVE_OVER_AST = "train imperative / AST"
TRAIN_AST_OVER_NUMPY = "train AST / numpy"
TRAIN_TORCHSCRIPT_OVER_AST = "train TorchScript / AST (AST faster)"
TRAIN_JAX_OVER_AST = "train JAX jit / AST (AST faster)"
ZOO_AST_OVER_MXNET = "zoo AST / MXNet"
FIRST_AST_CALL_ZOO = "zoo first AST call (ms)"

# each target's name in the tables, and what it measures in words (for the JSON)
MEASURES = {
    AST_OVER_NUMPY: "time per forward, AST mode over the hand-written numpy twin",
    IMPERATIVE_OVER_AST: "time per forward, imperative mode over AST mode",
    TRACE_OVER_AST: "time per forward, trace mode over AST mode",
    FIRST_AST_CALL: "milliseconds of the first AST-mode call of a freshly hybridized net",
    PEAK_MEMORY_AST_OVER_NUMPY: "peak memory of one forward, AST mode over the numpy twin",
    TRAIN_IMPERATIVE_OVER_AST: "time per training step, imperative mode over AST mode",
    TRAIN_AST_OVER_NUMPY: "time per training step, AST mode over the hand-written numpy step",
    TRAIN_TORCHSCRIPT_OVER_AST: "time per training step, PyTorch with its forward scripted "
                                "(torch.jit.script, backward by autograd) over AST mode",
    TRAIN_JAX_OVER_AST: "time per training step, one jax.jit function of value_and_grad and "
                        "the update over AST mode",
    ZOO_AST_OVER_MXNET: "time per predict-mode forward of a model-zoo network at batch 1, "
                        "AST mode over MXNet 1.x hybridized (static_alloc, static_shape)",
    FIRST_AST_CALL_ZOO: "milliseconds of the first AST-mode call of a model-zoo network at "
                        "batch 1, its parameters known",
}

# the training step's peers AST mode must beat: target, column, the package the column needs
# (a peer's errors are under its package where it failed to build, else under its column)
TRAIN_PEER_TARGETS = ((TRAIN_TORCHSCRIPT_OVER_AST, "torchscript", "torch"),
                      (TRAIN_JAX_OVER_AST, "jax", "jax"))


def _not_measured(what, model, peer, package, row):
    """A target entry, met and measured None, saying why the peer column it needs is absent
    from `row`."""
    errors = row.get("peer_errors", {})
    failed = errors.get(peer) or errors.get(package)
    return {"target": what, "measures": MEASURES[what], "model": model, "measured": None,
            "bound": "> 1", "met": None,
            "not_measured": f"{peer} failed: {failed}" if failed
            else f"needs --peers and {package} installed"}


def evaluate_targets(models, first, training=None, memory=None, zoo=None, zoo_first=None):
    targets = []

    def add(what, model, measured, op, bound):
        met = measured <= bound if op == "<=" else measured >= bound if op == ">=" \
            else measured > bound
        targets.append({"target": what, "measures": MEASURES[what], "model": model,
                        "measured": measured, "bound": f"{op} {bound:g}", "met": bool(met)})

    for name, info in models.items():
        bound = TARGET_AST_NUMPY_LARGE if name in LARGE_BATCH else TARGET_AST_NUMPY_BATCH1
        add(AST_OVER_NUMPY, name, info["ratio_to_numpy"]["ast"], "<=", bound)
    if "mlp1" in models:
        add(IMPERATIVE_OVER_AST, "mlp1", models["mlp1"]["imperative_over_ast"], ">=",
            TARGET_IMPERATIVE_OVER_AST)
    for name, info in models.items():
        add(TRACE_OVER_AST, name, info["trace_over_ast"], ">", 1.0)
    for name, bound in (("mlp1", TARGET_FIRST_CALL_MLP_MS), ("res200", TARGET_FIRST_CALL_200_MS)):
        if name in first:
            add(FIRST_AST_CALL, name, first[name]["ast"]["median_ms"], "<=", bound)
    training, memory = training or {}, memory or {}
    for name, info in memory.items():
        if name in LARGE_BATCH:
            add(PEAK_MEMORY_AST_OVER_NUMPY, name, info["ratio_to_numpy"]["ast"], "<=",
                TARGET_PEAK_MEMORY_AST_NUMPY)
    if "mlp1" in training:
        add(TRAIN_IMPERATIVE_OVER_AST, "mlp1", training["mlp1"]["imperative_over_ast"], ">=",
            TARGET_TRAIN_IMPERATIVE_OVER_AST)
        add(TRAIN_AST_OVER_NUMPY, "mlp1", training["mlp1"]["ratio_to_numpy"]["ast"], "<=",
            TARGET_TRAIN_AST_NUMPY)
        for what, peer, package in TRAIN_PEER_TARGETS:
            if peer in training["mlp1"]["times_us"]:
                add(what, "mlp1", training["mlp1"]["ratio_to_ast"][peer], ">", 1.0)
            else:
                targets.append(_not_measured(what, "mlp1", peer, package, training["mlp1"]))
    for info in (zoo or {}).values():
        network = info["network"]
        if info["batch"] == 1 and "mxnet" in info["times_us"]:
            add(ZOO_AST_OVER_MXNET, network, 1 / info["ratio_to_ast"]["mxnet"], "<=",
                TARGET_ZOO_AST_MXNET_FAST if network in ZOO_FAST else TARGET_ZOO_AST_MXNET)
    for name, info in (zoo_first or {}).items():
        add(FIRST_AST_CALL_ZOO, name, info["ast"]["median_ms"], "<=", TARGET_FIRST_CALL_ZOO_MS)
    return targets


def missed(targets, what):
    """The models whose target `what` was missed (not those where it was not measured)."""
    return [t["model"] for t in targets if t["target"] == what and t["met"] is False]
