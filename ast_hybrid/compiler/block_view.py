"""What the compiler sees of a block and of a parameter; gluon's Block and Parameter provide it."""

# the attribute name a block tells its watchers of when its children change
CHILDREN = "_children"

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


class ProgramCache:
    """A block's compiled programs by cache key, and the watcher that drops them when
    something they were specialized on changes. The block owns it (one for its life, so
    recompiling adds no new watchers); the compiler fills it.

    `programs` is None or a dict replaced, never changed, on each new entry, so a call
    reading it while another thread builds sees one consistent dict."""
    __slots__ = ("programs", "last_key", "watched", "__weakref__")

    def __init__(self):
        self.programs = None
        self.last_key = None     # the key of the latest program built: export's inputs
        self.watched = {}        # id(block) -> names of the attributes programs rely on

    def get(self, key):
        programs = self.programs
        return programs.get(key) if programs is not None else None

    def add(self, key, entry, programs):
        """Hold `entry` under `key` beside `programs`, the dict as its build began."""
        self.programs = with_entry(programs, key, entry)
        self.last_key = key

    def clear(self):
        self.programs = None

    def watch(self, block, attribute):
        """Drop the programs when `attribute` of `block` changes ('*': any attribute)."""
        self.watched.setdefault(id(block), set()).add(attribute)
        block.add_watcher(self)

    def attribute_changed(self, block, attribute):
        attributes = self.watched.get(id(block), ())
        if attribute in attributes or "*" in attributes:
            self.programs = None


class ParameterView:
    """A parameter as the compiler reads it: `_data` (its NDArray, None until initialized),
    `_check_initialized()` (raises the error imperative mode gives), `var()` (its variable
    in the graph being traced), `version` (bumped whenever its data is replaced), and for
    deferred initialization `shape_known`, `shape` and `_finish_deferred_init()`."""
    __slots__ = ()


class BlockView:
    """A block as the compiler reads it; the compiler reads a block through nothing else.

    `_program_cache`: its ProgramCache, or None for a block that is not hybrid."""
    __slots__ = ()
    _program_cache = None
    # a block that builds its own cache entry from the arguments (SymbolBlock) defines it
    _build_program = None

    def _forward_function(self):
        """The function a program compiles: hybrid_forward(self, F, *args, **parameters)."""
        raise NotImplementedError

    def _argument_parameters(self):
        """Its own parameters, by the keyword hybrid_forward receives each under."""
        raise NotImplementedError

    def _child_blocks(self):
        """Its children, in order."""
        raise NotImplementedError

    def _is_hybrid(self):
        """Whether a program may call it (a HybridBlock)."""
        raise NotImplementedError

    def _overrides_forward(self):
        """Whether its class defines its own forward, which a program cannot inline."""
        raise NotImplementedError

    def _hybridize_options(self):
        """The HybridizeOptions it was hybridized with (None before)."""
        raise NotImplementedError

    def _call_imperative(self, *args):
        """Its hybrid_forward run with F=nd, finishing deferred initialization first."""
        raise NotImplementedError

    def _call_symbolic(self, *args):
        """Its hybrid_forward run with F=sym on symbols, parameters as variables."""
        raise NotImplementedError

    def _tree_parameters(self):
        """Every parameter of its tree by full name (`dense0_weight`)."""
        raise NotImplementedError

    def _structural_params(self):
        """Every parameter of its tree once, by its first structural path (`0.weight`)."""
        raise NotImplementedError

    def infer_and_initialize(self, args):
        """Finish deferred initialization from the shapes of `args`."""
        raise NotImplementedError

    def add_watcher(self, watcher):
        """Call `watcher.attribute_changed(block, name)` whenever an attribute is set."""
        raise NotImplementedError
