"""Symbol: outputs of nodes in a computation graph, built with the operators of the table."""

from .. import ops
from ..base import MXNetError, describe_location, user_location
from ..graph_order import post_order
from ..ops.indexing_plan import plan_getitem
from ..ops.namespace import CONTRIB_PREFIX
from ..ops.python_operators import BINARY_METHODS, is_scalar, resolve_binary
from .naming import node_name


class Node:
    """One graph node: a variable (op is None) or an operator applied to earlier outputs."""
    __slots__ = ("op", "name", "attrs", "inputs", "extra", "location")

    def __init__(self, op, name, attrs=None, inputs=(), extra=None, location=None):
        self.op = op
        self.name = name
        self.attrs = attrs or {}
        self.inputs = list(inputs)
        self.extra = dict(extra or {})
        self.location = location

    @property
    def is_variable(self):
        return self.op is None

    def output_count(self):
        return 1 if self.op is None else self.op.output_count(self.attrs)


class Symbol:
    """A list of (node, output index) pairs; most symbols have exactly one."""
    __slots__ = ("_outputs",)

    def __init__(self, outputs):
        self._outputs = list(outputs)

    # ----- structure
    @property
    def name(self):
        if len(self._outputs) != 1:
            return None
        return self._outputs[0][0].name

    def topological_nodes(self):
        """Every node the outputs depend on, inputs before users, in first-visit order."""
        return post_order([node for node, _ in self._outputs],
                          lambda node: [parent for parent, _ in node.inputs])

    def variable_nodes(self):
        """(every variable node, inputs before users, the ids of those that are auxiliary
        states), from one pass over the graph."""
        aux_ids = set()
        variables = []
        for node in self.topological_nodes():
            if node.op is None:
                variables.append(node)
            elif node.op.aux:
                names = node.op.input_names(node.attrs)
                for (parent, _), input_name in zip(node.inputs, names):
                    if input_name in node.op.aux and parent.is_variable:
                        aux_ids.add(id(parent))
        return variables, aux_ids

    def _variables(self):
        variables, aux_ids = self.variable_nodes()
        return ([n for n in variables if id(n) not in aux_ids],
                [n for n in variables if id(n) in aux_ids])

    def list_arguments(self):
        return [n.name for n in self._variables()[0]]

    def list_auxiliary_states(self):
        return [n.name for n in self._variables()[1]]

    def list_inputs(self):
        return [n.name for n in self.topological_nodes() if n.is_variable]

    def list_outputs(self):
        names = []
        for node, index in self._outputs:
            if node.is_variable:
                names.append(node.name)
            elif node.output_count() == 1:
                names.append(f"{node.name}_output")
            else:
                names.append(f"{node.name}_output{index}")
        return names

    def __len__(self):
        return len(self._outputs)

    def __iter__(self):
        if len(self._outputs) == 1:
            raise TypeError("a single-output Symbol is not iterable; its length is unknown "
                            "until shapes are given")
        return (Symbol([output]) for output in self._outputs)

    def get_internals(self):
        outputs = []
        for node in self.topological_nodes():
            outputs.extend((node, i) for i in range(node.output_count()))
        return Symbol(outputs)

    def attr(self, key):
        node = self._outputs[0][0]
        if key in node.extra:
            return node.extra[key]
        if node.op is not None and key in node.attrs:
            return node.op.attrs[key].format(node.attrs[key])
        return None

    # ----- shapes
    def infer_shape(self, *args, **kwargs):
        """(arg_shapes, out_shapes, aux_shapes) as MXNet: (None, None, None) if too little known."""
        try:
            arg_shapes, out_shapes, aux_shapes = self._infer_shape(args, kwargs)
        except _IncompleteShapes:
            return None, None, None
        return arg_shapes, out_shapes, aux_shapes

    def infer_shape_partial(self, *args, **kwargs):
        return self._infer_shape(args, kwargs, partial=True)

    def _infer_shape(self, args, kwargs, partial=False):
        from .shape_inference import infer_node_shapes
        arguments, aux = self._variables()
        given = dict(zip([n.name for n in arguments], args))
        given.update(kwargs)
        shapes = infer_node_shapes(self, given, partial=partial)
        if not partial and any(shapes.get((id(n), 0)) is None for n in arguments + aux):
            raise _IncompleteShapes()
        return ([shapes.get((id(n), 0)) for n in arguments],
                [shapes.get((id(node), index)) for node, index in self._outputs],
                [shapes.get((id(n), 0)) for n in aux])

    def infer_type(self, *args, **kwargs):
        """(arg_types, out_types, aux_types) as numpy scalar types. Every operator here keeps
        the type of its data, so outputs take the first given type (float32 by default)."""
        import numpy as np
        arguments, aux = self._variables()
        given = dict(zip([n.name for n in arguments], args))
        given.update(kwargs)
        given = {name: np.dtype(value).type for name, value in given.items() if value is not None}
        default = next(iter(given.values()), np.float32)
        return ([given.get(n.name, default) for n in arguments],
                [default for _ in self._outputs], [given.get(n.name, default) for n in aux])

    # ----- evaluation
    def eval(self, ctx=None, **kwargs):
        """The output NDArrays, given NDArrays for the variables by name."""
        from .executor import evaluate
        return evaluate(self, kwargs)

    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None, **kwargs):
        """An Executor on the given arrays (a list in list_arguments() order, or a dict)."""
        from .executor import Executor, named_arrays
        arg_dict = named_arrays(self.list_arguments(), args, "arguments")
        aux_dict = named_arrays(self.list_auxiliary_states(), aux_states, "auxiliary states")
        missing = [n for n in self.list_arguments() + self.list_auxiliary_states()
                   if n not in arg_dict and n not in aux_dict]
        if missing:
            raise ValueError(f"bind: no array given for {', '.join(missing)}")
        return Executor(self, arg_dict, aux_dict)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, **shapes):
        """An Executor on zero arrays of the shapes inferred from the given input shapes."""
        from .. import ndarray as nd
        from .executor import Executor
        arg_shapes, _, aux_shapes = self.infer_shape(**shapes)
        if arg_shapes is None:
            raise ValueError(f"simple_bind: the shapes given ({shapes}) do not determine "
                             "every argument's shape")
        arg_dict = {name: nd.zeros(shape) for name, shape in zip(self.list_arguments(), arg_shapes)}
        aux_dict = {name: nd.zeros(shape)
                    for name, shape in zip(self.list_auxiliary_states(), aux_shapes)}
        return Executor(self, arg_dict, aux_dict)

    # ----- serialization
    def tojson(self):
        from .json_graph import graph_to_text
        return graph_to_text(self)

    def save(self, fname, remove_amp_cast=True):
        from .json_graph import save_json
        save_json(self, fname)

    # ----- operators
    def __bool__(self):
        raise MXNetError(
            "a Symbol has no value while tracing, so it cannot be used as a bool: a "
            "data-dependent branch or loop (if/while on an array) cannot be traced; at "
            f"{describe_location(user_location(skip_generated=True))}. Use "
            "hybridize(mode='ast'), F.where, or compute the condition outside hybrid_forward")

    def __getitem__(self, key):
        if isinstance(key, str):
            # an output by name, as get_internals()['fc1_output']
            names = self.list_outputs()
            if names.count(key) != 1:
                raise ValueError(f"{key!r} is {'not' if key not in names else 'more than once'} "
                                 f"among the outputs {names}")
            return Symbol([self._outputs[names.index(key)]])
        if len(self._outputs) > 1:
            if isinstance(key, slice):
                return Symbol(self._outputs[key])
            return Symbol([self._outputs[key]])
        result = self
        for op_name, attrs, extra in plan_getitem(key, None):
            if extra:
                raise TypeError("indexing a Symbol with an array is not supported; use F.take")
            result = apply(op_name, [result], attrs)
        return result

    def __neg__(self):
        return apply("negative", [self], {})

    def __abs__(self):
        return apply("abs", [self], {})

    def __pos__(self):
        return self

    def __hash__(self):
        return id(self)

    def __repr__(self):
        if len(self._outputs) == 1:
            return f"<Symbol {self.name}>"
        return "<Symbol group [" + ", ".join(self.list_outputs()) + "]>"

    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if shape:
            kwargs["shape"] = shape
        return apply_named("reshape", [self], kwargs)

    def astype(self, dtype, copy=True):
        import numpy as np
        return apply("cast", [self], {"dtype": np.dtype(dtype).name})

    @property
    def T(self):
        return self.transpose()


class _IncompleteShapes(Exception):
    pass


def _binary_method(family, reflected):
    def method(self, other):
        if not isinstance(other, Symbol) and not is_scalar(other):
            return NotImplemented
        lhs, rhs = (other, self) if reflected else (self, other)
        name, inputs, attrs = resolve_binary(family, lhs, rhs)
        return apply(name, list(inputs), attrs)
    return method


for _method, (_family, _reflected) in BINARY_METHODS.items():
    setattr(Symbol, _method, _binary_method(_family, _reflected))


def _make_node(op, attrs, inputs, name):
    for value in inputs:
        if not isinstance(value, Symbol):
            raise TypeError(f"{op.name}: expected Symbol inputs, got {type(value).__name__}")
        if len(value._outputs) != 1:
            raise TypeError(f"{op.name}: an input has {len(value._outputs)} outputs; select one")
    node = Node(op, name, attrs,
                [value._outputs[0] for value in inputs], location=user_location())
    count = op.output_count(attrs)
    return Symbol([(node, i) for i in range(count)])


def _auto_name(op):
    """MXNet's name hint: contrib operators are named by their short names (`div_sqrt_dim0`)."""
    name = op.name
    if name.startswith(CONTRIB_PREFIX):
        name = name[len(CONTRIB_PREFIX):]
    return name.lower().lstrip("_")


def apply(op_name, inputs, raw_attrs, name=None):
    op = ops.get(op_name)
    return _make_node(op, op.parse_attrs(raw_attrs), inputs, node_name(name, _auto_name(op)))


def apply_named(op_name, args, kwargs):
    """A node built as users call operators; missing inputs become `{name}_{input}` variables."""
    op = ops.get(op_name)
    kwargs = dict(kwargs)
    name = kwargs.pop("name", None)
    user_attrs = kwargs.pop("attr", None)
    for ignored in ("out", "ctx"):
        kwargs.pop(ignored, None)
    named_inputs, attrs = ops.bind(op, tuple(args), kwargs)
    name = node_name(name, _auto_name(op))
    inputs = [value if value is not None else var(f"{name}_{input_name}")
              for input_name, value in named_inputs.items()]
    symbol = _make_node(op, attrs, inputs, name)
    if user_attrs:
        symbol._outputs[0][0].extra.update({k: str(v) for k, v in user_attrs.items()})
    return symbol


def var(name, attr=None, shape=None, dtype=None, init=None, **kwargs):
    if not isinstance(name, str):
        raise TypeError(f"a variable's name must be a string, not {type(name).__name__}")
    extra = {k: str(v) for k, v in (attr or {}).items()}
    if shape is not None:
        extra["__shape__"] = str(tuple(shape))
    if dtype is not None:
        import numpy as np
        extra["__dtype__"] = np.dtype(dtype).name
    return Symbol([(Node(None, name, extra=extra), 0)])


def Group(symbols):
    outputs = []
    for symbol in symbols:
        outputs.extend(symbol._outputs)
    return Symbol(outputs)


def _fluent_method(op_name):
    def method(self, *args, **kwargs):
        return apply_named(op_name, [self, *args], kwargs)
    method.__name__ = op_name
    return method


def _install_fluent_methods():
    from ..ndarray.ndarray import add_fluent_methods
    add_fluent_methods(Symbol, _fluent_method)


_install_fluent_methods()
