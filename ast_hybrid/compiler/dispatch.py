"""Calling a hybridized block: the cached program for these arguments, or a new one, run."""
import operator
import threading
import warnings

import numpy as np

from .. import autograd
from ..ndarray import NDArray
from .backend import annotate
from .passes.errors import UnsupportedConstruct
from .trace import nest

build_lock = threading.RLock()


class HybridizeCheckError(AssertionError):
    """hybridize(check=True) found the compiled program disagreeing with imperative mode."""


class HybridizeFallbackWarning(UserWarning):
    """AST mode could not compile a construct; the block runs in trace mode instead."""


class _Array:
    """Marks an array argument in a cache key: arrays of every shape share one program."""
    def __repr__(self):
        return "<array>"


ARRAY = _Array()
AUTO = "auto"   # outputs wrapped by their run-time type (arrays, tuples and lists of them)


_parameter_array = operator.attrgetter("_data._data")   # read afresh on every call
_ALL_ARRAYS = [(ARRAY,) * count for count in range(8)]


# programs kept per block or @hybrid function, one per distinct set of constant arguments:
# past this, the least recently built is dropped (with its source lines, see backend.py)
MAX_PROGRAMS = 64


def with_entry(programs, key, entry):
    """A copy of the `programs` dict with `key` -> `entry`, bounded to MAX_PROGRAMS."""
    programs = dict(programs or {})
    programs.pop(key, None)
    programs[key] = entry
    while len(programs) > MAX_PROGRAMS:
        del programs[next(iter(programs))]
    return programs


def argument_leaves(args):
    """The arguments with their lists and tuples spread out, in order (`net(x, [h, c])`
    gives x, h, c): the program takes one argument per array among them."""
    leaves = []
    for value in args:
        if isinstance(value, (list, tuple)):
            leaves.extend(argument_leaves(value))
        else:
            leaves.append(value)
    return leaves


def cache_key(args):
    if len(args) < len(_ALL_ARRAYS) and all(type(value) is NDArray for value in args):
        return _ALL_ARRAYS[len(args)]   # the common case, without building a tuple per call
    key = []
    for value in args:
        if isinstance(value, NDArray):
            key.append(ARRAY)
        elif isinstance(value, (list, tuple)):
            # one program for every list of the same length and kinds of items
            key.append((type(value).__name__, cache_key(value)))
        else:
            try:
                hash(value)
            except TypeError:
                raise TypeError(f"a hybridized block takes arrays and hashable constants; got "
                                f"{type(value).__name__}") from None
            if isinstance(value, float) and value != value:   # every NaN is one constant
                value = "nan"
            key.append(("constant", type(value).__name__, value))
    return tuple(key)


class CompiledEntry:
    """One cached program and how to call it: which arguments are arrays, which parameters
    follow them, and how to re-nest the outputs. Under autograd.record() it runs the recording
    form of the program and registers the derived backward program with autograd."""
    __slots__ = ("program", "params", "array_positions", "structure", "mode", "block",
                 "nested", "_differentiated", "_warned")

    def __init__(self, program, params, array_positions, structure, mode, block=None,
                 nested=False):
        """`array_positions` index the arguments' leaves (see argument_leaves) when `nested`
        says some argument is a list or tuple, else the arguments themselves."""
        self.program = program
        self.nested = nested
        self.params = params
        self.array_positions = array_positions
        self.structure = structure
        self.mode = mode
        self.block = block
        self._differentiated = None
        self._warned = False

    def __call__(self, args):
        if self.program.guards is not None and self.block is not None and self.stale():
            object.__setattr__(self.block, "_programs", None)
            return self.block(*args)
        leaves = argument_leaves(args) if self.nested else args
        try:
            arrays = [leaves[i]._data for i in self.array_positions]
            arrays += map(_parameter_array, self.params)
        except AttributeError:
            return self._initialize_imperatively(args)
        if autograd.is_recording():
            return self._call_recorded(args, leaves, arrays)
        try:
            result = self.program.function(*arrays)
        except Exception as error:
            # the same exception (or the operator's, with its context set), its traceback kept
            raise annotate(error, self.program)  # noqa: B904
        return self._placed(self._wrap(result), leaves)

    def stale(self):
        """Whether a value the program was specialized on, unwatched, has changed since."""
        guards = self.program.guards
        return guards is not None and not guards.holds()

    def _placed(self, outputs, leaves):
        """The outputs on the first array input's context, as an operator's are."""
        context = leaves[self.array_positions[0]]._ctx if self.array_positions else None
        if context is not None:
            for output in _array_leaves(outputs):
                output._ctx = context
        return outputs

    def _wrap(self, result):
        if self.structure is None:
            return NDArray(result)
        if self.structure is AUTO:
            return wrap_outputs(result)
        return nest(self.structure, map(NDArray, result))

    def differentiated(self):
        """The recording forward and backward programs, derived on first use."""
        if self._differentiated is None:
            from .backward import DifferentiatedProgram
            self._differentiated = DifferentiatedProgram(self.program)
        return self._differentiated

    def _call_recorded(self, args, leaves, arrays):
        inputs = [leaves[i] for i in self.array_positions] + [p._data for p in self.params]
        needs = [autograd.requires_grad(x) for x in inputs]
        try:
            derived = self.differentiated()
            derived.check_decided(needs)
        except UnsupportedConstruct as error:
            if self.block is None or not self.block._options.fallback:
                raise
            if not self._warned:
                self._warned = True
                warnings.warn(f"{error}; gradients of {type(self.block).__name__} are recorded "
                              "imperatively instead", HybridizeFallbackWarning, stacklevel=4)
            return self.block._call_imperative(*args)
        try:
            result, stack, values = derived.record(*arrays)
        except Exception as error:
            raise annotate(error, derived.program)  # noqa: B904 (as in __call__)
        outputs = self._placed(self._wrap(result), leaves)
        flat = list(_array_leaves(outputs))

        def backward(output_gradients, destinations=None):
            gradient = _nested_like(result, iter(output_gradients))
            try:
                return list(derived.backward(list(stack), values, gradient, destinations))
            except Exception as error:
                raise annotate(error, derived.program)  # noqa: B904 (as in __call__)

        # into: the backward program may write a parameter's gradient straight into the
        # buffer autograd offers for it (grad_req 'write', the graph's only use of it)
        # an output imperative mode computes outside the graph stays outside it
        autograd.record_function(inputs, flat, backward, into=True,
                                 attached=derived.reach.attached(needs, result))
        return outputs

    def _initialize_imperatively(self, args):
        """A parameter is still uninitialized: its layer sits on a branch no call has taken
        yet, so its shape is unknown. This call runs imperatively, which initializes what it
        reaches; the program runs again once every parameter has data."""
        if self.block is None:
            raise RuntimeError("a parameter of the compiled program has not been initialized")
        return self.block._call_imperative(*args)


def _array_leaves(outputs):
    """The NDArrays of a possibly nested output ((out, [h, c]) from a recurrent layer)."""
    if isinstance(outputs, (tuple, list)):
        for item in outputs:
            yield from _array_leaves(item)
    elif isinstance(outputs, NDArray):
        yield outputs


def _nested_like(result, gradients):
    """The gradients of _array_leaves' arrays, nested as the program's raw result is."""
    if isinstance(result, (tuple, list)):
        return type(result)(_nested_like(item, gradients) for item in result)
    if isinstance(result, np.ndarray):
        return next(gradients)
    return None


def wrap_outputs(result):
    if isinstance(result, np.ndarray):
        return NDArray(result)
    if isinstance(result, (tuple, list)):
        return type(result)(wrap_outputs(r) for r in result)
    return result


class Invalidator:
    """Drops a block's programs when something they were specialized on changes.

    One per compiled block (`Invalidator.of(block)`), so recompiling adds no new watchers."""

    def __init__(self, owner):
        self.owner = owner
        self.watched = {}

    @classmethod
    def of(cls, owner):
        invalidator = owner.__dict__.get("_invalidator")
        if invalidator is None:
            invalidator = cls(owner)
            object.__setattr__(owner, "_invalidator", invalidator)
        return invalidator

    def watch(self, block, attribute):
        self.watched.setdefault(id(block), set()).add(attribute)
        block.add_watcher(self)

    def attribute_changed(self, block, attribute):
        attributes = self.watched.get(id(block), ())
        if attribute in attributes or "*" in attributes:
            object.__setattr__(self.owner, "_programs", None)


def call_compiled(block, args):
    key = cache_key(args)
    programs = block._programs
    entry = programs.get(key) if programs is not None else None
    if entry is not None:
        return entry(args)
    with build_lock:
        programs = block._programs or {}
        entry = programs.get(key)
        first_output = None
        if entry is None:
            entry, first_output = _build(block, args)
            object.__setattr__(block, "_programs", with_entry(programs, key, entry))
            object.__setattr__(block, "_last_call_key", key)
    output = first_output if first_output is not None else entry(args)
    if block._options.check and first_output is None:
        _check_against_imperative(block, args, output)
    return output


def _build(block, args):
    """(entry, output of this call if it had to run imperatively to finish initialization)."""
    from . import trace_entry
    options = block._options
    first_output = None
    builder = getattr(block, "_build_program", None)
    # trace mode infers deferred shapes from the one trace it compiles (hybrid_forward runs
    # once, as in MXNet); other paths finish initialization first
    infer_while_tracing = options.mode == "trace" and builder is None
    if _has_deferred_parameters(block) and not infer_while_tracing:
        if options.mode == "trace":
            block.infer_and_initialize(args)
        else:
            first_output = block._call_imperative(*args)
    if builder is not None:
        return builder(args), first_output
    if options.mode == "ast":
        from .ast_front_end import UnsupportedConstruct, build_ast_entry
        try:
            return build_ast_entry(block, args), first_output
        except UnsupportedConstruct as error:
            if not options.fallback:
                raise
            warnings.warn(f"{error}; {type(block).__name__} runs in trace mode instead",
                          HybridizeFallbackWarning, stacklevel=4)
    infer = infer_while_tracing and _has_deferred_parameters(block)
    return trace_entry.build_trace_entry(block, args, infer_shapes=infer), first_output


def _has_deferred_parameters(block):
    return any(p._data is None for p in block.collect_params().values())


def _check_against_imperative(block, args, compiled_output):
    with autograd.pause(train_mode=autograd.is_training()):
        expected = block._call_imperative(*args)
    got_leaves, want_leaves = list(_array_leaves(compiled_output)), list(_array_leaves(expected))
    if len(got_leaves) != len(want_leaves):
        raise HybridizeCheckError(
            f"{type(block).__name__}: the {block._options.mode} program returned "
            f"{len(got_leaves)} arrays, imperative mode {len(want_leaves)}")
    for index, (got, want) in enumerate(zip(got_leaves, want_leaves)):
        got, want = got.asnumpy(), want.asnumpy()
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-5, atol=1e-6):
            difference = (np.max(np.abs(got - want)) if got.shape == want.shape
                          else f"shapes {got.shape} vs {want.shape}")
            raise HybridizeCheckError(
                f"{type(block).__name__}: the {block._options.mode} program disagrees with "
                f"imperative mode on output {index} (max difference {difference})")
