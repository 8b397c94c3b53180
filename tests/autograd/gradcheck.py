"""Finite-difference checks of the operator table's gradients (imported as `gradcheck`)."""
import numpy as np

from ast_hybrid.ops import VARIADIC, get


def run_kernel(op, arrays, attrs):
    kwargs = dict(attrs)
    kwargs.pop("training", None)
    if op.mode_dependent:
        kwargs["training"] = attrs.get("training", False)
    result = op.kernel(*arrays, **kwargs)
    return list(result) if isinstance(result, tuple) else [result]


def parse(name, arrays, attrs):
    op = get(name)
    attrs = dict(attrs)
    training = attrs.pop("training", None)
    if op.inputs == VARIADIC:
        attrs.setdefault("num_args", len(arrays))
    parsed = op.parse_attrs(attrs)
    if training is not None:
        parsed["training"] = training
    return op, parsed


def check_grad(name, arrays, attrs=None, wrt=None, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0):
    """Compare op.grad with central differences of sum(output * random out_grad)."""
    arrays = [np.array(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.array(a)
              for a in arrays]
    op, parsed = parse(name, arrays, attrs or {})
    outputs = run_kernel(op, [a.copy() for a in arrays], parsed)
    rng = np.random.default_rng(seed)
    out_grads = [rng.standard_normal(o.shape) for o in outputs]
    analytic = op.grad(parsed, [a.copy() for a in arrays], outputs, out_grads)
    assert len(analytic) == len(arrays), f"{name}: {len(analytic)} gradients for {len(arrays)} inputs"
    wrt = range(len(arrays)) if wrt is None else wrt

    def objective(values):
        outs = run_kernel(op, [v.copy() for v in values], parsed)
        return sum(float(np.sum(o * g)) for o, g in zip(outs, out_grads))

    for i in wrt:
        numeric = np.zeros_like(arrays[i])
        flat = numeric.reshape(-1)
        for j in range(arrays[i].size):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[i].reshape(-1)[j] += eps
            minus[i].reshape(-1)[j] -= eps
            flat[j] = (objective(plus) - objective(minus)) / (2 * eps)
        got = analytic[i]
        got = np.zeros_like(arrays[i]) if got is None else np.asarray(got)
        assert got.shape == arrays[i].shape, f"{name} input {i}: gradient shape {got.shape}"
        np.testing.assert_allclose(got, numeric, rtol=rtol, atol=atol * max(1, np.abs(numeric).max()) + 1e-6,
                                   err_msg=f"{name} input {i} attrs {attrs}")
    return analytic
