"""What loading a model file may cost, checked before anything is allocated; each limit is a
keyword argument of the loading functions (sym.load, nd.load, load_parameters, imports)."""
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class LoadLimits:
    max_nodes: int = 1_000_000            # nodes of a graph
    max_node_inputs: int = 4096           # inputs of one node (num_args of Concat, add_n)
    max_node_outputs: int = 4096          # outputs of one node (num_outputs of SliceChannel)
    max_array_elements: int = 1 << 28     # elements of one array (1 GiB of float32)
    max_total_bytes: int = 1 << 32        # bytes of a file, or of the arrays it declares

    @classmethod
    def given(cls, limits):
        """LoadLimits from a loading function's keyword arguments; unknown ones are an error."""
        unknown = sorted(set(limits) - {f.name for f in fields(cls)})
        if unknown:
            raise TypeError(f"unknown limit(s) {', '.join(unknown)}; the limits are "
                            f"{', '.join(f.name for f in fields(cls))}")
        return cls(**limits)

    def exceeded(self, name, size, what):
        """A sentence saying that `what` (of `size`) passes limit `name` and how to raise it,
        or None when it does not."""
        limit = getattr(self, name)
        if size <= limit:
            return None
        return f"{what} is {size}, more than {name}={limit}; pass {name}={size} to load it"


def element_count(shape):
    """Elements of an array of `shape` (Python integers: no overflow, whatever the file says)."""
    count = 1
    for size in shape:
        count *= size
    return count
