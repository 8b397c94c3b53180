"""Checking a Symbol's outputs and gradients, as MXNet 1.9.1's test_utils does, on the CPU."""
import traceback

import numpy as np

from .. import autograd
from .. import ndarray as nd
from ..symbol.executor import evaluate
from .compare import assert_almost_equal, default_numeric_eps, get_tolerance, get_tols
from .context import default_context

__all__ = ["simple_forward", "check_symbolic_forward", "check_symbolic_backward",
           "check_numeric_gradient", "check_consistency"]

_FLOAT_DTYPES = (np.float16, np.float32, np.float64)


def _as_array(value, dtype):
    if isinstance(value, np.ndarray):
        return nd.array(value, dtype=value.dtype if dtype == "asnumpy" else dtype)
    return value


def _arguments(sym, location, dtype):
    """The argument arrays by name, from a list in list_arguments() order or a dict."""
    assert isinstance(location, (dict, list, tuple))
    assert dtype == "asnumpy" or dtype in _FLOAT_DTYPES
    names = sym.list_arguments()
    if isinstance(location, dict):
        if set(location) != set(names):
            raise ValueError("Symbol arguments and keys of the given location do not match."
                             "symbol args:%s, location.keys():%s"
                             % (str(set(names)), str(set(location))))
    else:
        location = dict(zip(names, location))
    return {k: _as_array(v, dtype) for k, v in sorted(location.items())}


def _aux_states(sym, aux_states, dtype):
    assert dtype == "asnumpy" or dtype in _FLOAT_DTYPES
    if aux_states is None:
        return {}
    names = sym.list_auxiliary_states()
    if isinstance(aux_states, dict):
        if set(aux_states) != set(names):
            raise ValueError("Symbol aux_states names and given aux_states do not match."
                             "symbol aux_names:%s, aux_states.keys:%s"
                             % (str(set(names)), str(set(aux_states))))
    else:
        aux_states = dict(zip(names, aux_states))
    return {k: _as_array(np.asarray(v), dtype) for k, v in aux_states.items()}


def _forward(sym, arguments, aux, is_train):
    """The outputs; auxiliary states are copied, so a training forward leaves them as given."""
    values = {**arguments, **{k: v.copy() for k, v in aux.items()}}
    with autograd.train_mode() if is_train else autograd.predict_mode():
        return evaluate(sym, values)


def _gradients(sym, arguments, aux, grad_req, out_grads, is_train=True):
    """(outputs, {name: gradient}) of a recorded forward and a backward from out_grads
    (None: ones); arguments whose grad_req is 'null' get no gradient."""
    leaves = {}
    for name, value in arguments.items():
        leaves[name] = value.copy()
        if grad_req.get(name, "null") != "null":
            leaves[name].attach_grad()
    with autograd.record(train_mode=is_train):
        outputs = _forward(sym, leaves, aux, is_train)
    autograd.backward(list(outputs), out_grads)
    return outputs, {name: leaves[name].grad for name in leaves
                     if grad_req.get(name, "null") != "null"}


def _requests(sym, grad_req):
    names = sym.list_arguments()
    if isinstance(grad_req, str):
        return {k: grad_req for k in names}
    if isinstance(grad_req, (list, tuple)):
        return dict(zip(names, grad_req))
    return dict(grad_req)


def simple_forward(sym, ctx=None, is_train=False, **inputs):
    """The outputs of `sym` given numpy arrays by name, as numpy (one array for one output)."""
    outputs = [o.asnumpy() for o in _forward(
        sym, {k: nd.array(v) for k, v in inputs.items()}, {}, is_train)]
    return outputs[0] if len(outputs) == 1 else outputs


def check_symbolic_forward(sym, location, expected, rtol=None, atol=None, aux_states=None,
                           ctx=None, equal_nan=False, dtype=np.float32):
    """Compare the outputs of `sym` at `location` with `expected` (a list, or a dict by
    output name); returns the outputs."""
    arguments = _arguments(sym, location, dtype)
    aux = _aux_states(sym, aux_states, dtype)
    if isinstance(expected, dict):
        expected = [expected[k] for k in sym.list_outputs()]
    outputs = _forward(sym, arguments, aux, is_train=False)
    for name, want, got in zip(sym.list_outputs(), expected, outputs):
        assert_almost_equal(want, got, rtol, atol, ("EXPECTED_%s" % name, "FORWARD_%s" % name),
                            equal_nan=equal_nan)
    return outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=None, atol=None,
                            aux_states=None, grad_req="write", ctx=None, grad_stypes=None,
                            equal_nan=False, dtype=np.float32):
    """Compare the gradients of `sym` at `location`, given the outputs' gradients, with
    `expected` (a list in list_arguments() order, or a dict); returns the gradients. A
    'null' argument is compared with its untouched buffer, as in MXNet, so it passes."""
    arguments = _arguments(sym, location, dtype)
    aux = _aux_states(sym, aux_states, dtype)
    if isinstance(expected, (list, tuple)):
        expected = dict(zip(sym.list_arguments(), expected))
    requests = _requests(sym, grad_req)
    if isinstance(out_grads, dict):
        out_grads = [out_grads[k] for k in sym.list_outputs()]
    if out_grads is not None:
        out_grads = [_as_array(g, dtype) for g in out_grads]
    _, grads = _gradients(sym, arguments, aux, requests, out_grads)
    for name in expected:
        if requests[name] not in ("write", "add", "null"):
            raise ValueError("Invalid grad_req %s for argument %s" % (requests[name], name))
        if requests[name] != "null":
            assert_almost_equal(expected[name], grads[name], rtol, atol,
                                ("EXPECTED_%s" % name, "BACKWARD_%s" % name),
                                equal_nan=equal_nan)
    return grads


def _numeric_gradient(sym, arguments, aux, name, projection, eps, is_train, dtype):
    """Central differences of sum(sym's output * projection) in `name`'s elements, each
    moved by eps / 2 both ways in `dtype`'s arithmetic."""
    point = arguments[name].asnumpy().copy()
    gradient = np.zeros(point.shape, dtype=dtype)
    if point.dtype.kind != "f":
        return gradient

    def projected():
        moved = dict(arguments, **{name: nd.array(point, dtype=dtype)})
        return (_forward(sym, moved, aux, is_train)[0] * projection).asnumpy()

    flat, flat_gradient = point.reshape(-1), gradient.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] += eps / 2.0
        plus = projected()
        flat[i] -= eps
        minus = projected()
        flat_gradient[i] = (plus - minus).sum() / eps
        flat[i] = original
    return gradient


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=None, rtol=None,
                           atol=None, grad_nodes=None, use_forward_train=True, ctx=None,
                           grad_stype_dict=None, dtype=np.float32):
    """Compare the gradients autograd computes for `sym` at `location` with finite
    differences, both of sum(output * a random projection), for each of `grad_nodes`
    (default: every argument; a dict gives each one's grad_req)."""
    assert dtype in _FLOAT_DTYPES
    arguments = _arguments(sym, location, dtype)
    aux = _aux_states(sym, aux_states, dtype)
    if grad_nodes is None:
        grad_nodes = sym.list_arguments()
        requests = {k: "write" for k in grad_nodes}
    elif isinstance(grad_nodes, (list, tuple)):
        grad_nodes = list(grad_nodes)
        requests = {k: "write" for k in grad_nodes}
    elif isinstance(grad_nodes, dict):
        requests = dict(grad_nodes)
        grad_nodes = list(grad_nodes)
    else:
        raise ValueError
    _, out_shapes, _ = sym.infer_shape(**{k: v.shape for k, v in arguments.items()})
    assert len(out_shapes) == 1
    # elements not too small, or the finite differences lose too much precision
    projection = nd.array(np.random.rand(*out_shapes[0]) + 0.1, dtype=dtype)
    # an 'add' request adds into a buffer already holding something
    initial = {k: np.random.normal(0, 0.01, size=arguments[k].shape) for k in grad_nodes}
    outputs, grads = _gradients(sym, arguments, aux, requests, [projection])
    eps = get_tolerance(outputs[0], numeric_eps, default_numeric_eps())
    if dtype in (np.float32, np.float16):
        # smaller steps are lost in the rounding of a low-precision type
        assert eps >= 1e-5
    for name in grad_nodes:
        request = requests[name]
        if request not in ("write", "add", "null"):
            raise ValueError("Invalid grad_req %s for argument %s" % (request, name))
        if request == "null":
            continue        # MXNet compares the untouched buffer with itself
        numeric = _numeric_gradient(sym, arguments, aux, name, projection, eps,
                                    use_forward_train, dtype)
        computed = grads[name]
        if request == "add":
            computed = (nd.array(initial[name], dtype=dtype) + computed).asnumpy() - \
                initial[name]
        assert_almost_equal(numeric, computed, rtol, atol,
                            ("NUMERICAL_%s" % name, "BACKWARD_%s" % name))


def _least_precise(first, second):
    return first if second is None or np.dtype(first).itemsize < np.dtype(second).itemsize \
        else second


def _configuration_arrays(sym, config, arg_params, aux_params):
    shapes = {k: v for k, v in config.items() if k not in ("ctx", "type_dict", "stype_dict")}
    arg_shapes, _, aux_shapes = sym.infer_shape(**shapes)
    arg_types, _, aux_types = sym.infer_type(**config.get("type_dict", {}))
    arguments = {name: nd.array(np.broadcast_to(arg_params[name], shape), dtype=dtype)
                 for name, shape, dtype in zip(sym.list_arguments(), arg_shapes, arg_types)}
    aux = {name: nd.array(np.broadcast_to(aux_params[name], shape), dtype=dtype)
           for name, shape, dtype in zip(sym.list_auxiliary_states(), aux_shapes, aux_types)}
    return arguments, aux


def _report(kind, error, raise_on_err):
    print(kind)
    traceback.print_exc()
    if raise_on_err:
        raise error
    print(str(error))


def check_consistency(sym, ctx_list, scale=1.0, grad_req="write", arg_params=None,
                      aux_params=None, rtol=None, atol=None, raise_on_err=True,
                      ground_truth=None, equal_nan=False, use_uniform=False,
                      rand_type=np.float64):
    """Compare the outputs (predicting, then training) and gradients of one or several
    symbols under the listed configurations (each a dict of 'ctx', input shapes and
    'type_dict'), against the most precise one (or `ground_truth`); returns the ground
    truth by output and argument name. Every configuration runs on the CPU."""
    assert len(ctx_list) > 1
    symbols = sym if isinstance(sym, (list, tuple)) else [sym] * len(ctx_list)
    assert len(symbols) == len(ctx_list)
    output_names, arg_names = symbols[0].list_outputs(), symbols[0].list_arguments()
    for s in symbols:
        assert s.list_arguments() == arg_names
        assert s.list_outputs() == output_names
    arg_params = {} if arg_params is None else arg_params
    aux_params = {} if aux_params is None else aux_params
    first_shapes = {k: v for k, v in ctx_list[0].items() if k not in ("ctx", "type_dict")}
    arg_shapes, _, aux_shapes = symbols[0].infer_shape(**first_shapes)
    # drawn in name order, so a seed gives the same inputs as MXNet's
    for name, shape in sorted(zip(arg_names, arg_shapes)):
        if name not in arg_params:
            arg_params[name] = (np.random.uniform(-0.92 * scale, 0.92 * scale, size=shape)
                                if use_uniform else
                                np.random.normal(size=shape, scale=scale)).astype(rand_type)
    for name in symbols[0].list_auxiliary_states():
        aux_params.setdefault(name, 0)
    runs = [_configuration_arrays(s, c, arg_params, aux_params)
            for s, c in zip(symbols, ctx_list)]
    requests = _requests(symbols[0], grad_req)

    predictions = [_forward(s, a, x, is_train=False) for s, (a, x) in zip(symbols, runs)]
    dtypes = [np.dtype(outputs[0].dtype) for outputs in predictions]
    truth_index = max(range(len(dtypes)), key=lambda i: (dtypes[i].itemsize, -i))
    truth = ground_truth if ground_truth is not None else \
        dict(zip(output_names, predictions[truth_index]))
    for i, outputs in enumerate(predictions):
        if i == truth_index:
            continue
        for name, got in zip(output_names, outputs):
            try:
                assert_almost_equal(got, truth[name], rtol=rtol, atol=atol,
                                    equal_nan=equal_nan)
            except AssertionError as error:
                _report("Predict Err: ctx %d vs ctx %d at %s" % (i, truth_index, name), error,
                        raise_on_err)
    if grad_req == "null":
        return truth

    trained = [_forward(s, a, x, is_train=True) for s, (a, x) in zip(symbols, runs)]
    least = [o.dtype for o in trained[0]]
    for outputs in trained:
        least = [_least_precise(o.dtype, dt) for o, dt in zip(outputs, least)]
    heads = [o.astype(dt).asnumpy() for o, dt in zip(trained[0], least)]
    results = []
    for s, (arguments, aux), outputs in zip(symbols, runs, trained):
        out_grads = [nd.array(h, dtype=o.dtype) for h, o in zip(heads, outputs)]
        outputs, grads = _gradients(s, arguments, aux, requests, out_grads)
        results.append(dict(zip(output_names, outputs)))
        results[-1].update({name: grads.get(name) for name in arg_names})
    if ground_truth is None:
        truth = results[truth_index]
    for i, result in enumerate(results):
        if i == truth_index:
            continue
        for name in output_names + arg_names:
            got, want = result[name], truth[name]
            if want is None:
                assert got is None
                continue
            try:
                rt, at = rtol, atol
                # a float16 run's float32 gradients (batchnorm's gamma) get float16's
                # tolerance
                smaller_got = _least_precise(got.dtype, dtypes[i])
                smaller_want = _least_precise(want.dtype, dtypes[truth_index])
                if smaller_got != got.dtype or smaller_want != want.dtype:
                    rt, at = get_tols(got.astype(smaller_got), want.astype(smaller_want),
                                      rtol, atol)
                assert_almost_equal(got, want, rtol=rt, atol=at, equal_nan=equal_nan)
            except AssertionError as error:
                _report("Train Err: {} {} ctx {} vs {} {} ctx {} at {}".format(
                    np.dtype(got.dtype).name, default_context(), i,
                    np.dtype(want.dtype).name, default_context(), truth_index, name),
                    error, raise_on_err)
    return truth
