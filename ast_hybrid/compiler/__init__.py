"""The compiler behind hybridize(): an AST front end and a trace front end sharing one back end.

(Named `compiler` rather than `hybrid` so that `ast_hybrid.hybrid` can be the decorator.)
"""
