"""A cache entry: one compiled program, called on a block's arguments (and recorded)."""
import operator
import threading
import warnings

import numpy as np

from .. import autograd
from ..ndarray import NDArray
from .backend import annotate
from .backward import DifferentiatedProgram
from .passes.errors import UnsupportedConstruct
from .trace import nest

build_lock = threading.RLock()     # held while a cache entry is built


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
            self.block._program_cache.clear()
            return self.block(*args)
        leaves = argument_leaves(args) if self.nested else args
        if autograd.is_recording():
            return self._call_recorded(args, leaves)
        try:
            arrays = [leaves[i]._data for i in self.array_positions]
            arrays += map(_parameter_array, self.params)
        except AttributeError:
            return self._initialize_imperatively(args)
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
            self._differentiated = DifferentiatedProgram(self.program)
        return self._differentiated

    def _call_recorded(self, args, leaves):
        inputs = [leaves[i] for i in self.array_positions]
        inputs += [p._data for p in self.params]
        try:
            arrays = [x._data for x in inputs]
        except AttributeError:      # a parameter without data (None)
            return self._initialize_imperatively(args)
        needs = tuple([autograd.requires_grad(x) for x in inputs])
        try:
            derived = self.differentiated()
            derived.check_decided(needs)
        except UnsupportedConstruct as error:
            if self.block is None or not self.block._hybridize_options().fallback:
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
        if not any(needs):
            return outputs
        single = type(result) is np.ndarray
        flat = [outputs] if single else list(_array_leaves(outputs))
        program = derived.backward

        def backward(output_gradients, destinations=None):
            gradient = output_gradients[0] if single else \
                _nested_like(result, iter(output_gradients))
            try:
                return program(list(stack) if stack else stack, values, gradient, destinations)
            except Exception as error:
                raise annotate(error, derived.program)  # noqa: B904 (as in __call__)

        # into: the backward program may write a parameter's gradient straight into the
        # buffer autograd offers for it (grad_req 'write', the graph's only use of it)
        # an output imperative mode computes outside the graph stays outside it
        autograd.record_needed(inputs, arrays, flat, backward, into=True,
                               attached=derived.attached(needs, result))
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


def cached_entry(cache, args):
    """The program `cache` (a ProgramCache) holds for these arguments, or None; no key is
    computed while it holds none (an imperative call may take unhashable arguments)."""
    programs = cache.programs
    return programs.get(cache_key(args)) if programs is not None else None
