"""The AST front end's passes, applied in order: source, fence, specialize (with inline and lower)."""
