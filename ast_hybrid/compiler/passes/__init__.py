"""The AST front end's passes in order: source, fence, loop_exits, specialize (inline, lower)."""
