"""ONNX export checked by onnxruntime: each model and operator run on random inputs at two batch
sizes and compared with ast_hybrid's own outputs; import_model gives the same outputs back; an
operator without an ONNX form is refused, naming it and its node."""
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="needs the onnx package (the onnx and test extras "
                                          "install it)")
ort = pytest.importorskip("onnxruntime", reason="needs onnxruntime (the test extra installs it)")

import ast_hybrid  # noqa: E402
import ast_hybrid.onnx as mx_onnx  # noqa: E402
from ast_hybrid import nd, sym  # noqa: E402
from ast_hybrid.gluon import nn  # noqa: E402
from ast_hybrid.onnx import OnnxExportError, OnnxImportError  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5


def run_onnx(path, feeds):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def lecture_mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(2))
    return net, (512,)


class TwoBranchCNN(nn.HybridBlock):
    """Convolutions, BatchNorm, max and average pooling, a concat of two branches."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.stem = nn.HybridSequential()
            self.stem.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
                          nn.MaxPool2D(2))
            self.left = nn.Conv2D(4, 1, use_bias=False)
            self.right = nn.HybridSequential()
            self.right.add(nn.Conv2D(4, 3, padding=2, dilation=2, groups=2),
                           nn.BatchNorm(scale=False), nn.LeakyReLU(0.1))
            self.pool = nn.AvgPool2D(3, strides=2, padding=1, count_include_pad=False)
            self.head = nn.HybridSequential()
            self.head.add(nn.GlobalAvgPool2D(), nn.Flatten(), nn.Dense(10))

    def hybrid_forward(self, F, x):
        x = self.stem(x)
        x = F.concat(self.left(x), self.right(x), dim=1)
        return F.softmax(self.head(self.pool(x)))


def cnn():
    return TwoBranchCNN(), (3, 12, 12)


def _trained_statistics(net):
    """Moving statistics other than the initial 0 and 1, so BatchNorm's use of them shows."""
    for name, param in net.collect_params().items():
        if name.endswith(("running_mean", "running_var", "gamma", "beta")):
            low = 0.5 if name.endswith(("running_var", "gamma")) else -0.5
            param.set_data(nd.array(np.random.uniform(low, 1.5, param.shape)))


@pytest.mark.parametrize("make", [lecture_mlp, cnn], ids=["mlp", "cnn"])
@pytest.mark.parametrize("mode", ["ast", "trace"])
def test_block_export_runs_in_onnxruntime_and_imports_back(tmp_path, make, mode):
    np.random.seed(0)
    net, shape = make()
    net.initialize(ast_hybrid.init.Xavier())
    net.hybridize(mode=mode)
    example = nd.array(np.random.randn(2, *shape))
    net(example)
    _trained_statistics(net)
    path = net.export_onnx(str(tmp_path / "model.onnx"), example)
    model = onnx.load(path)
    assert model.opset_import[0].version >= 13
    imported = mx_onnx.import_model(path)
    for batch in (1, 5):
        x = np.random.randn(batch, *shape).astype(np.float32)
        ours = net(nd.array(x)).asnumpy()
        close(run_onnx(path, {"data": x})[0], ours)
        close(imported(nd.array(x)).asnumpy(), ours)
        imported.hybridize()        # the imported graph compiles, and computes the same
        close(imported(nd.array(x)).asnumpy(), ours)


def test_export_model_takes_mxnets_files(tmp_path):
    np.random.seed(1)
    net, shape = cnn()
    net.initialize()
    net.hybridize()
    x = np.random.randn(2, *shape).astype(np.float32)
    ours = net(nd.array(x)).asnumpy()
    symbol_file, params_file = net.export(str(tmp_path / "cnn"))
    path = mx_onnx.export_model(symbol_file, params_file, [(1,) + shape], np.float32,
                                str(tmp_path / "cnn.onnx"))
    close(run_onnx(path, {"data": x})[0], ours)


def test_static_export_fixes_every_axis(tmp_path):
    net, shape = lecture_mlp()
    net.initialize()
    path = net.export_onnx(str(tmp_path / "mlp.onnx"), nd.ones((3,) + shape), dynamic=False)
    dims = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [3, 512]


def _params_for(symbol, data_shape):
    """Random values for the graph's variables other than `data` (variances positive)."""
    arg_shapes, _, aux_shapes = symbol.infer_shape(data=data_shape)
    params = {}
    for name, shape in zip(symbol.list_arguments(), arg_shapes):
        if name != "data":
            params[name] = np.random.uniform(-1, 1, shape).astype(np.float32)
    for name, shape in zip(symbol.list_auxiliary_states(), aux_shapes):
        params[name] = np.random.uniform(0.5, 1.5, shape).astype(np.float32)
    return params


def _ours(symbol, x, params):
    values = {name: nd.array(value) for name, value in params.items()}
    return [out.asnumpy() for out in symbol.eval(data=nd.array(x), **values)]


D = sym.var("data")
# (id, graph of `data`, the shape of one sample)
OPERATORS = [
    ("conv_dilate_group", lambda: sym.Convolution(D, kernel=(3, 3), num_filter=4, stride=(2, 1),
                                                  dilate=(2, 2), pad=(2, 1), num_group=2),
     (4, 9, 9)),
    ("conv1d_no_bias", lambda: sym.Convolution(D, kernel=(3,), num_filter=2, no_bias=True),
     (3, 8)),
    ("deconv", lambda: sym.Deconvolution(D, kernel=(3, 3), num_filter=4, stride=(2, 2),
                                         pad=(1, 1), adj=(1, 1), num_group=2, no_bias=False),
     (2, 5, 5)),
    ("max_pool_full", lambda: sym.Pooling(D, kernel=(3, 3), stride=(2, 2), pool_type="max",
                                          pooling_convention="full"), (2, 8, 8)),
    ("max_pool_pad", lambda: sym.Pooling(D, kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                                         pool_type="max"), (2, 7, 7)),
    ("avg_pool_full_pad", lambda: sym.Pooling(D, kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                                              pool_type="avg", pooling_convention="full"),
     (2, 8, 8)),
    ("avg_pool_exclude_pad", lambda: sym.Pooling(D, kernel=(2, 2), stride=(2, 2), pad=(1, 1),
                                                 pool_type="avg", count_include_pad=False),
     (2, 7, 7)),
    ("sum_pool", lambda: sym.Pooling(D, kernel=(2,), stride=(1,), pool_type="sum"), (2, 6)),
    ("global_max_pool", lambda: sym.Pooling(D, kernel=(1, 1), global_pool=True), (3, 5, 4)),
    ("batch_norm_fix_gamma", lambda: sym.BatchNorm(D, eps=1e-3), (3, 4, 4)),
    ("batch_norm_gamma", lambda: sym.BatchNorm(D, fix_gamma=False), (3, 4)),
    ("layer_norm", lambda: sym.LayerNorm(D), (3, 6)),
    ("group_norm", lambda: sym.GroupNorm(D, num_groups=2), (4, 3, 3)),
    ("reverse_div_sqrt_smooth_l1", lambda: sym.smooth_l1(
        sym.contrib.div_sqrt_dim(sym.reverse(D, axis=(1, 2))), scalar=2.0), (3, 4)),
    ("instance_norm", lambda: sym.InstanceNorm(D), (3, 4, 5)),
    ("activations", lambda: sym.concat(*[sym.Activation(D, act_type=a) for a in
                                         ("relu", "sigmoid", "tanh", "softrelu", "softsign")],
                                       dim=1), (6,)),
    ("leaky_variants", lambda: sym.concat(*[sym.LeakyReLU(D, act_type=a, slope=0.2) for a in
                                            ("leaky", "elu", "selu", "gelu")], dim=1), (6,)),
    ("prelu", lambda: sym.LeakyReLU(D, act_type="prelu"), (3, 4, 4)),
    ("softmax", lambda: sym.softmax(D, axis=1, temperature=2.0) + sym.log_softmax(D), (4, 5)),
    ("dropout_flatten", lambda: sym.flatten(sym.Dropout(D, p=0.5)), (2, 3, 4)),
    ("reshape_codes", lambda: sym.reshape(sym.reshape(D, shape=(0, -3, -2)),
                                          shape=(0, -4, 2, -1, -2)), (2, 3, 4, 5)),
    ("reshape_reverse", lambda: sym.reshape(D, shape=(-1, 0), reverse=True), (3, 4)),
    ("reshape_batch_free", lambda: sym.reshape(D, shape=(-1, 4)), (2, 6)),
    ("transpose_swap", lambda: sym.swapaxes(sym.transpose(D, axes=(0, 2, 1)), dim1=1, dim2=2),
     (3, 4)),
    ("expand_squeeze", lambda: sym.squeeze(sym.expand_dims(D, axis=-1), axis=(3,)), (3, 4)),
    ("stack_split", lambda: sym.split(sym.stack(D, D * 2, axis=1), num_outputs=2, axis=1,
                                      squeeze_axis=True)[1], (3, 4)),
    ("broadcast_arithmetic", lambda: (sym.broadcast_add(D, sym.sum(D, axis=1, keepdims=True))
                                      * sym.broadcast_maximum(D, sym.var("w", shape=(1, 4)))
                                      / (sym.broadcast_minimum(D, D * 0.5) ** 2 + 1)
                                      - sym.broadcast_hypot(D, D + 1)), (4,)),
    ("elemwise", lambda: sym.elemwise_sub(sym.elemwise_mul(D, D), sym.elemwise_div(D, D + 3))
     + sym.elemwise_add(D, D), (4,)),
    ("scalars", lambda: 2 - (3 / (D * D + 1)) + (2 ** D) + sym.maximum(D, 0.1)
     + sym.minimum(D, 0.2) + (D > 0) + (D <= 0.3) + (D != 0.5) + (D == D), (5,)),
    ("comparisons", lambda: sym.broadcast_greater(D, D * 0.5) + sym.broadcast_lesser_equal(D, -D)
     + sym.broadcast_not_equal(D, D) + sym.broadcast_equal(D, D), (5,)),
    ("clip_unary", lambda: sym.concat(*[getattr(sym, f)(sym.clip(D, 0.1, 3.0)) for f in
                                        ("exp", "log", "sqrt", "rsqrt", "square", "abs",
                                         "negative", "sign", "floor", "ceil", "round",
                                         "reciprocal", "sin", "cos", "erf")], dim=1), (4,)),
    ("reductions", lambda: sym.stack(sym.sum(D, axis=(1, 2)), sym.mean(D, axis=0, exclude=True),
                                      sym.max(D, axis=(1, 2)), sym.min(D, axis=(1, 2)),
                                      sym.prod(D * 0.1 + 1, axis=(1, 2)),
                                      sym.norm(D, axis=(1, 2)), axis=1), (3, 4)),
    ("full_reductions", lambda: sym.concat(sym.sum(D), sym.max(D, axis=()), sym.argmax(D),
                                           sym.norm(D), sym.sum(D, exclude=True).sum(), dim=0),
     (3, 2)),
    ("argmax", lambda: sym.argmax(D, axis=1), (6,)),
    ("fc_not_flattened", lambda: sym.FullyConnected(D, num_hidden=3, flatten=False), (2, 4)),
    ("cast", lambda: sym.cast(D, dtype="float64") * 2 + 1, (3,)),
    ("fc_flattened", lambda: sym.FullyConnected(D, num_hidden=3, no_bias=True), (2, 4)),
    ("slices", lambda: sym.concat(sym.slice(D, begin=(None, 3, None), end=(None, None, 1),
                                            step=(None, -1, None)),
                                  sym.slice_axis(D, axis=2, begin=-1, end=None), dim=1),
     (6, 3)),
    ("embedding", lambda: sym.Embedding(D, input_dim=10, output_dim=3), (4,)),
    ("pad_modes", lambda: sym.concat(*[sym.pad(D, mode=m, pad_width=(0, 0, 0, 0, 1, 2, 2, 1))
                                       for m in ("constant", "edge", "reflect")], dim=1),
     (2, 4, 4)),
    ("where_take", lambda: sym.where(D > 0, D, sym.take(sym.var("t", shape=(5, 4)),
                                                      sym.abs(D) * 2, axis=0).sum(axis=2)),
     (4,)),
    ("dot_batch_dot", lambda: sym.dot(D, sym.var("w", shape=(3, 4)), transpose_b=False)
     + sym.batch_dot(sym.expand_dims(D, axis=1), sym.var("v", shape=(1, 1, 1)) + D.reshape(
         (0, 3, 1)) * 0 + 1, transpose_a=False).reshape((0, -1)).sum(axis=1, keepdims=True),
     (3,)),
    ("tile_broadcast", lambda: sym.tile(D, reps=(1, 2))
     + sym.broadcast_to(sym.sum(D, axis=1, keepdims=True), shape=(0, 8))
     + sym.broadcast_like(sym.mean(D, axis=1, keepdims=True), sym.tile(D, reps=(1, 2)))
     + sym.broadcast_axis(sym.max(D, axis=1, keepdims=True), axis=1, size=8), (4,)),
    ("likes_add_n", lambda: sym.add_n(sym.zeros_like(D), sym.ones_like(D), D)
     + sym.ones(shape=(1, 4)) * 2, (4,)),
]


INDICES = {"embedding", "where_take"}      # cases whose data holds indices


@pytest.mark.parametrize("case,build,shape", OPERATORS, ids=[case[0] for case in OPERATORS])
def test_operator_matches_onnxruntime_at_two_batch_sizes(tmp_path, case, build, shape):
    np.random.seed(2)
    symbol = build()
    params = _params_for(symbol, (2,) + shape)
    path = mx_onnx.export_model(symbol, params, [(2,) + shape],
                                onnx_file_path=str(tmp_path / "op.onnx"))
    imported = mx_onnx.import_model(path)
    for batch in (1, 3):
        x = np.random.uniform(-2, 2, (batch,) + shape).astype(np.float32)
        if case in INDICES:
            x = np.round(x * 3)         # some beyond the table: clipped
        ours = _ours(symbol, x, params)
        for got, want in zip(run_onnx(path, {"data": x}), ours):
            close(got, want)
        back = imported(nd.array(x))
        back = [back] if isinstance(back, nd.NDArray) else back
        for got, want in zip(back, ours):
            close(got.asnumpy(), want)


def test_every_operator_case_is_distinct():
    assert len({case[0] for case in OPERATORS}) == len(OPERATORS)


@pytest.mark.parametrize("build,op", [
    (lambda: sym.log1p(D, name="tiny"), "log1p"),
    (lambda: sym.SequenceMask(D, name="tiny"), "SequenceMask"),
    (lambda: sym.broadcast_mod(D, D + 3, name="tiny"), "broadcast_mod"),
    (lambda: sym.Dropout(D, mode="always", name="tiny"), "Dropout"),
    (lambda: sym.LayerNorm(D, axis=1, name="tiny"), "LayerNorm"),
])
def test_an_operator_without_an_onnx_form_is_refused_by_name(tmp_path, build, op):
    symbol = build()
    with pytest.raises(OnnxExportError, match=f"{op} node 'tiny'") as caught:
        mx_onnx.export_model(symbol, _params_for(symbol, (2, 3, 4)), [(2, 3, 4)],
                             onnx_file_path=str(tmp_path / "m.onnx"))
    assert (caught.value.op, caught.value.node) == (op, "tiny")
    assert not (tmp_path / "m.onnx").exists()


def test_a_shape_the_dynamic_axes_cannot_take_is_refused(tmp_path):
    # (B, F) to (1, B, F): with both axes free neither output axis copies its input's
    symbol = sym.reshape(D, shape=(-4, 1, -1, -2), name="lifted")
    with pytest.raises(OnnxExportError, match="reshape node 'lifted' to ONNX: more than one axis"):
        mx_onnx.export_model(symbol, {}, [(2, 3)], onnx_file_path=str(tmp_path / "m.onnx"),
                             dynamic_input_shapes=[(None, None)])
    path = mx_onnx.export_model(symbol, {}, [(2, 3)], onnx_file_path=str(tmp_path / "m.onnx"))
    for batch in (1, 4):
        x = np.random.randn(batch, 3).astype(np.float32)
        close(run_onnx(path, {"data": x})[0], _ours(symbol, x, {})[0])


def test_an_output_whose_rank_the_batch_decides_is_refused(tmp_path):
    symbol = sym.squeeze(D, name="squeezed")        # drops the batch axis at batch size 1
    with pytest.raises(OnnxExportError, match="squeeze node 'squeezed' to ONNX: the rank"):
        mx_onnx.export_model(symbol, {}, [(1, 3)], onnx_file_path=str(tmp_path / "m.onnx"))


def test_free_axes_other_than_the_batch(tmp_path):
    symbol = sym.reshape(sym.Activation(D, act_type="relu"), shape=(0, 0, -1))
    path = mx_onnx.export_model(symbol, {}, [(2, 3, 4, 5)], onnx_file_path=str(tmp_path / "m"),
                                dynamic_input_shapes=[(None, None, 4, 5)])
    for shape in [(1, 2, 4, 5), (3, 7, 4, 5)]:
        x = np.random.randn(*shape).astype(np.float32)
        close(run_onnx(path, {"data": x})[0], _ours(symbol, x, {})[0])


def test_names_from_files_stay_data(tmp_path):
    odd = "x'); import os; os._exit(3)  # \n\"'"
    symbol = sym.FullyConnected(sym.var("data"), num_hidden=3, name=odd)
    params = _params_for(symbol, (2, 4))
    path = mx_onnx.export_model(symbol, params, [(2, 4)], onnx_file_path=str(tmp_path / "m"))
    block = mx_onnx.import_model(path)
    assert f"{odd}_weight" in block.collect_params()
    x = np.random.randn(2, 4).astype(np.float32)
    close(block(nd.array(x)).asnumpy(), _ours(symbol, x, params)[0])
    block.hybridize()           # the compiled program holds no name from the file as code
    close(block(nd.array(x)).asnumpy(), _ours(symbol, x, params)[0])


def _onnx_file(tmp_path, node, inputs=("data",)):
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3, 4, 4])
                      for n in inputs],
        [helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, None)])
    path = str(tmp_path / "in.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.mark.parametrize("node,op,reason", [
    (("Hardmax", ["data"], ["y"]), "Hardmax", "no mapping"),
    (("Mod", ["data", "data"], ["y"]), "Mod", "no mapping"),
    (("MaxPool", ["data"], ["y"], {"kernel_shape": [3, 3], "ceil_mode": 1}), "MaxPool",
     "ceil_mode"),
    (("AveragePool", ["data"], ["y"], {"kernel_shape": [2, 2], "pads": [0, 0, 1, 1]}),
     "AveragePool", "differ at the two ends"),
])
def test_an_onnx_operator_without_a_form_here_is_refused_by_name(tmp_path, node, op, reason):
    from onnx import helper
    op_type, inputs, outputs = node[:3]
    made = helper.make_node(op_type, inputs, outputs, name="odd one", **(node[3:] or [{}])[0])
    with pytest.raises(OnnxImportError, match=f"{op} node 'odd one': .*{reason}"):
        mx_onnx.import_model(_onnx_file(tmp_path, made))


def test_import_runs_what_onnxruntime_runs_for_a_model_made_elsewhere(tmp_path):
    from onnx import helper
    made = helper.make_node("AveragePool", ["data"], ["y"], kernel_shape=[3, 3], pads=[1] * 4,
                            strides=[2, 2], count_include_pad=1)
    path = _onnx_file(tmp_path, made)
    x = np.random.randn(2, 3, 4, 4).astype(np.float32)
    close(mx_onnx.import_model(path)(nd.array(x)).asnumpy(), run_onnx(path, {"data": x})[0])


def test_tensors_in_other_files_are_refused(tmp_path):
    from onnx import TensorProto, helper
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4], np.ones(4, np.float32))
    weight.data_location = TensorProto.EXTERNAL
    weight.ClearField("float_data")
    weight.external_data.add(key="location", value="../../../etc/passwd")
    graph = helper.make_graph(
        [helper.make_node("Add", ["data", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])], [weight])
    path = str(tmp_path / "m.onnx")
    onnx.save(helper.make_model(graph), path)
    with pytest.raises(OnnxImportError, match="initializer node 'w'.*other files"):
        mx_onnx.import_model(path)


def test_import_of_a_model_made_elsewhere_runs_what_onnxruntime_runs(tmp_path):
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(3)

    def weight(name, *shape):
        return numpy_helper.from_array(rng.uniform(-1, 1, shape).astype(np.float32), name)

    def ints(name, values):
        return numpy_helper.from_array(np.array(values, np.int64), name)

    nodes = [
        helper.make_node("Conv", ["data", "cw"], ["c"], kernel_shape=[3, 3], pads=[1] * 4),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Slice", ["p", "starts", "ends", "axes"], ["s"]),
        helper.make_node("Unsqueeze", ["s", "uaxes"], ["u"]),
        helper.make_node("Squeeze", ["u", "uaxes"], ["q"]),
        helper.make_node("GlobalAveragePool", ["q"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "gw", "gb"], ["m"]),
        helper.make_node("Mul", ["m", "two"], ["m2"]),
        helper.make_node("Gather", ["m2", "picks"], ["t"], axis=1),
        helper.make_node("Softmax", ["t"], ["y"], axis=1),
    ]
    initializers = [weight("cw", 4, 3, 3, 3), weight("gw", 3, 5), weight("gb", 5),
                    ints("starts", [1]), ints("ends", [np.iinfo(np.int64).max]),
                    ints("axes", [1]), ints("uaxes", [-1]), ints("picks", [4, -1, 0]),
                    numpy_helper.from_array(np.array(2, np.float32), "two")]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["n", 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers)
    path = str(tmp_path / "elsewhere.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    block = mx_onnx.import_model(path)
    for batch in (1, 4):
        x = rng.standard_normal((batch, 3, 8, 8)).astype(np.float32)
        close(block(nd.array(x)).asnumpy(), run_onnx(path, {"data": x})[0])


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\xff\x00 not protobuf \x12\x99")
    with pytest.raises(OnnxImportError, match="not an ONNX model"):
        mx_onnx.import_model(str(path))


def test_without_the_onnx_package_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'ast_hybrid\[onnx\]'"):
        mx_onnx.export_model(D * 2, {}, [(1, 2)], onnx_file_path=str(tmp_path / "m.onnx"))


class TwoInTwoOut(nn.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = nn.Dense(3, flatten=False)

    def hybrid_forward(self, F, x, y):
        return self.dense(x) + y, F.broadcast_mul(x, F.sum(y, axis=-1, keepdims=True))


def test_a_block_of_several_inputs_and_outputs(tmp_path):
    np.random.seed(4)
    net = TwoInTwoOut()
    net.initialize()
    example = [nd.array(np.random.randn(2, 5, 4)), nd.array(np.random.randn(2, 5, 3))]
    path = net.export_onnx(str(tmp_path / "two.onnx"), *example)
    imported = mx_onnx.import_model(path)
    for batch in (1, 3):
        x, y = (np.random.randn(batch, 5, n).astype(np.float32) for n in (4, 3))
        ours = [out.asnumpy() for out in net(nd.array(x), nd.array(y))]
        for got, want in zip(run_onnx(path, {"data0": x, "data1": y}), ours):
            close(got, want)
        for got, want in zip(imported(nd.array(x), nd.array(y)), ours):
            close(got.asnumpy(), want)


_BIG, _SMALL = np.iinfo(np.int64).max, np.iinfo(np.int64).min


@pytest.mark.parametrize("starts,ends,steps", [
    (_BIG, _SMALL, -1), (_BIG, _BIG, 1), (0, _BIG, 1), (-2, -100, -1), (1, -1, 2)])
def test_imported_slice_bounds_clamp_as_onnxs(tmp_path, starts, ends, steps):
    from onnx import TensorProto, helper, numpy_helper
    bounds = [numpy_helper.from_array(np.array([v], np.int64), name)
              for v, name in ((starts, "s"), (ends, "e"), (1, "a"), (steps, "p"))]
    graph = helper.make_graph(
        [helper.make_node("Slice", ["data", "s", "e", "a", "p"], ["y"])], "g",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [2, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], bounds)
    path = str(tmp_path / "slice.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    want = run_onnx(path, {"data": x})[0]
    got = mx_onnx.import_model(path)(nd.array(x)).asnumpy()
    assert got.shape == want.shape
    close(got, want)
