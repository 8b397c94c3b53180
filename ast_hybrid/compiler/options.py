"""The options `hybridize()` takes, kept together as part of every cache key."""
from typing import NamedTuple


class HybridizeOptions(NamedTuple):
    mode: str = "ast"
    static_alloc: bool = False
    static_shape: bool = False
    fallback: bool = True
    check: bool = False
    optimize: bool = True
