"""The operator table: each operator declared once, read by nd, sym, the compilers and export."""
import functools
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import numpy as np

from ..base import MXNetError
from .attrs import AttrError

VARIADIC = ("*args",)


class OpError(ValueError, MXNetError):
    """An operator applied to inputs or attributes it cannot take: an MXNetError, as MXNet's
    operator checks raise, and a ValueError, as the bad values are the caller's."""


@dataclass
class Op:
    """One operator.

    kernel(*arrays, **attrs) computes on numpy arrays (with `training=` too when
    `mode_dependent`); shape(attrs, in_shapes) returns (in_shapes, out_shapes) where unknown
    input shapes (None) that the rule can deduce, such as a layer's weight, are filled in;
    grad(attrs, inputs, outputs, out_grads) returns one gradient (or None) per input;
    `fluent` operators are also methods of NDArray and Symbol (`x.exp()`);
    `keyword_inputs` are inputs given by keyword only, where MXNet's signature puts the
    attributes first (`log_softmax(x, axis)`, its `length` added after);
    specialize(attrs), where given, returns a kernel bound to those attributes, taking only
    the input arrays positionally and computing what kernel(*arrays, **attrs) computes (for
    the compiler's optimizer), or None where these attributes have no faster form; the kernel
    is made once per attributes and shared by every program, so it keeps no program's state;
    `specialized_layout`: the bound kernel keeps its input's memory order where `kernel`
    gives C order (equal values, but later sums over them may round otherwise);
    specialize_grad(attrs) likewise returns the gradient bound to them (see bound_gradient),
    computing what grad computes, or None.
    """
    name: str
    kernel: Callable
    shape: Callable
    inputs: Union[tuple, Callable] = ("data",)
    attrs: dict = field(default_factory=dict)
    num_outputs: Union[int, Callable] = 1
    aux: tuple = ()
    mode_dependent: bool = False
    aliases: tuple = ()
    grad: Optional[Callable] = None
    fluent: bool = False
    doc: str = ""
    specialize: Optional[Callable] = None
    keyword_inputs: tuple = ()
    specialize_grad: Optional[Callable] = None
    specialized_layout: bool = False
    # the kernel as declared, whose outputs may be views of its inputs (see register)
    view_kernel: Optional[Callable] = field(default=None, init=False, repr=False)
    # specialize's kernels by attributes: every program binding the same attributes calls one
    # function, under one name in a program and the programs derived from it
    _bound: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def specialized_kernel(self, attrs):
        """The kernel bound to `attrs` (see `specialize`), or None."""
        if self.specialize is None or self.mode_dependent:
            return None
        key = repr(sorted(attrs.items()))
        if key not in self._bound:
            self._bound[key] = self.specialize(attrs)
        return self._bound[key]

    def bound_gradient(self, attrs, specialized=True):
        """The gradient of an operator of one output with its attributes bound, called as
        bound(*inputs, output, out_grad) and returning one gradient per input: an array for
        each array input (see reaching). specialize_grad's form where `specialized` and the
        operator declares one for these attributes, else `grad` with `attrs` through lists.
        `bound.writes_into` says whether it takes `out=` as grad does (see FullyConnected)."""
        if specialized and self.specialize_grad is not None and not self.mode_dependent:
            bound = self.specialize_grad(self.parse_attrs(attrs))
            if bound is not None:
                return bound
        grad = reaching(self.grad)

        def bound(*arrays, **options):
            return grad(attrs, list(arrays[:-2]), [arrays[-2]], [arrays[-1]], **options)
        bound.writes_into = grad.writes_into
        bound.__name__ = f"{self.name}_grad"
        return bound

    def input_count(self, attrs):
        """How many inputs the operator takes, without listing their names."""
        return attrs["num_args"] if self.inputs == VARIADIC else len(self.input_names(attrs))

    def input_names(self, attrs):
        if self.inputs == VARIADIC:
            return tuple(f"arg{i}" for i in range(attrs["num_args"]))
        if callable(self.inputs):
            return tuple(self.inputs(attrs))
        return self.inputs

    def output_count(self, attrs):
        return self.num_outputs(attrs) if callable(self.num_outputs) else self.num_outputs

    def parse_attrs(self, given, *, strict=True, keep=None):
        """Complete and validate attributes: values given by the user or read from JSON text.

        Values for which `keep(value)` is true are kept as they are (a compiler's run-time
        expressions, checked by the kernel when the program runs)."""
        values = {}
        for key, raw in given.items():
            spec = self.attrs.get(key)
            if spec is None:
                if strict:
                    raise OpError(f"{self.name}: unknown attribute {key!r}; it takes "
                                  f"{', '.join(self.attrs) or 'no attributes'}")
                continue
            if keep is not None and keep(raw):
                values[key] = raw
                continue
            values[key] = self.parse_attr(key, raw)
        for key, spec in self.attrs.items():
            if key not in values:
                if spec.required:
                    raise OpError(f"{self.name}: missing required attribute {key!r}")
                values[key] = spec.default
        return values

    def parse_attr(self, key, raw):
        """One declared attribute's value read as parse_attrs reads it, or its OpError (for
        kernels handed a run-time value they cannot take, which a compiled program passes
        unparsed)."""
        try:
            return self.attrs[key].parse(raw)
        except AttrError as err:
            raise OpError(f"{self.name}: attribute {key!r}: {err}") from None

    def format_attrs(self, attrs):
        """Attributes as MXNet writes them in JSON: every value a string."""
        return {key: self.attrs[key].format(value) for key, value in attrs.items()}

    def check_arrays(self, attrs, arrays):
        """Apply the shape rule to the shapes of `arrays` (None for an optional input not
        given, such as a bias): raises the OpError imperative mode raises before calling the
        kernel on them. Attributes not in `attrs` take their defaults (kernels pass those the
        rule reads)."""
        if self.attrs.keys() - attrs.keys():
            attrs = self.parse_attrs(attrs)
        self.infer_shape(attrs, [a.shape for a in arrays if a is not None])

    def infer_shape(self, attrs, in_shapes):
        try:
            in_shapes, out_shapes = self.shape(attrs, list(in_shapes))
        except OpError:
            raise
        except (ValueError, IndexError, TypeError, ZeroDivisionError) as err:
            raise OpError(f"{self.name}: cannot apply to input shapes "
                          f"{_shapes_text(in_shapes)}: {err}") from None
        return list(in_shapes), list(out_shapes)

    def __call__(self, *arrays, **attrs):
        return self.kernel(*arrays, **attrs)


def _shapes_text(shapes):
    return ", ".join("?" if s is None else str(tuple(getattr(s, "shape", s))) for s in shapes)


def shape_error(op_name, message, shapes):
    """The OpError of a shape rule; `shapes` are the input shapes, or the input arrays where a
    kernel raises it (the text is the same, so both refuse alike)."""
    return OpError(f"{op_name}: {message} (input shapes {_shapes_text(shapes)})")


REGISTRY: dict[str, Op] = {}
_REACHING = {}


def reaching(grad):
    """An operator's declared gradient, giving a zero array where it gives an array input
    None: imperative mode reaches every input of a recorded operator (stop_gradient, a
    comparison, an index) and writes zeros into a leaf it reached that nothing flowed to."""
    wrapped = _REACHING.get(grad)
    if wrapped is None:
        def wrapped(attrs, inputs, outputs, out_grads, **options):
            gradients = grad(attrs, inputs, outputs, out_grads, **options)
            if any(g is None for g in gradients):
                gradients = [np.zeros_like(x) if g is None and isinstance(x, np.ndarray) else g
                             for g, x in zip(gradients, inputs)]
            return gradients
        wrapped.writes_into = getattr(grad, "writes_into", False)
        wrapped.__name__ = getattr(grad, "__name__", "grad")
        _REACHING[grad] = wrapped
    return wrapped


def _fresh(result, arrays):
    for array in arrays:
        if isinstance(array, np.ndarray) and np.may_share_memory(result, array):
            return result.copy()
    return result


def fresh_outputs(kernel):
    """`kernel` whose outputs never share memory with its inputs: MXNet's operators write
    new arrays, so a later write into an input or an output shows in no other array (numpy's
    reshape, transpose or slice would return views)."""
    @functools.wraps(kernel)
    def kernel_with_fresh_outputs(*arrays, **attrs):
        result = kernel(*arrays, **attrs)
        if isinstance(result, tuple):
            return tuple(_fresh(item, arrays) for item in result)
        return _fresh(result, arrays)
    return kernel_with_fresh_outputs


def register(op: Op) -> Op:
    """Add `op` to the table; its `kernel` gives fresh outputs, `view_kernel` is the one
    declared (for what shares memory in MXNet too: NDArray.reshape, basic indexing)."""
    op.view_kernel = op.kernel
    if not isinstance(op.kernel, np.ufunc):     # a ufunc's outputs are new arrays already
        op.kernel = fresh_outputs(op.kernel)
    for key in (op.name,) + tuple(op.aliases):
        if key in REGISTRY:
            raise RuntimeError(f"operator {key!r} is declared twice")
        REGISTRY[key] = op
    return op


def check_arrays(op_name, attrs, arrays):
    """`op_name`'s shape rule on `arrays` (see Op.check_arrays). A kernel calls it where a cheap
    test finds inputs the rule may refuse and numpy would not: the rule decides, with its own
    message, and the kernel carries on where the rule accepts them."""
    REGISTRY[op_name].check_arrays(attrs, arrays)


def get(name: str) -> Op:
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise OpError(f"unknown operator {name!r}") from None


def bind(op: Op, args: tuple, kwargs: dict, keep=None):
    """Split a call's arguments into named inputs and parsed attributes.

    Returns (inputs, attrs) where inputs maps each input name to the value given or None;
    `keep` is passed on to Op.parse_attrs.
    """
    kwargs = dict(kwargs)
    if op.inputs == VARIADIC:
        if "num_args" not in kwargs:
            kwargs["num_args"] = len(args)
        attrs = op.parse_attrs(kwargs, keep=keep)
        names = op.input_names(attrs)
        if len(args) != len(names):
            raise OpError(f"{op.name}: num_args={attrs['num_args']} but {len(args)} inputs given")
        return dict(zip(names, args)), attrs
    all_names = all_input_names(op)
    positional = positional_input_names(op)
    inputs_given = {}
    if len(args) > len(positional):
        # as MXNet's generated functions: positional arguments after the inputs are the
        # attributes in declared order (`nd.transpose(x, (1, 0, 2))`, `nd.clip(x, 0, 1)`)
        extra, args = args[len(positional):], args[:len(positional)]
        attr_names = list(op.attrs)
        if len(extra) > len(attr_names):
            raise OpError(f"{op.name}: takes at most {len(positional)} inputs "
                          f"({', '.join(positional)}) and {len(attr_names)} attributes "
                          f"({', '.join(attr_names)}), got {len(args) + len(extra)} arguments")
        for name, value in zip(attr_names, extra):
            if name in kwargs:
                raise OpError(f"{op.name}: attribute {name!r} given twice")
            kwargs[name] = value
    for name, value in zip(positional, args):
        inputs_given[name] = value
    for name in all_names:
        if name in kwargs:
            if name in inputs_given:
                raise OpError(f"{op.name}: input {name!r} given twice")
            inputs_given[name] = kwargs.pop(name)
    attrs = op.parse_attrs(kwargs, keep=keep)
    names = op.input_names(attrs)
    for name, value in inputs_given.items():
        if name not in names and value is not None:
            raise OpError(f"{op.name}: input {name!r} is not used with these attributes")
    return {name: inputs_given.get(name) for name in names}, attrs


def all_input_names(op):
    """Every input name an operator can take, whatever its attributes (callables get None)."""
    if callable(op.inputs):
        return op.inputs(None)
    return op.inputs


def positional_input_names(op):
    """The inputs a call may give positionally, before the attributes."""
    return tuple(n for n in all_input_names(op) if n not in op.keyword_inputs)
