"""The compiler: an AST front end and a trace front end sharing one back end."""
