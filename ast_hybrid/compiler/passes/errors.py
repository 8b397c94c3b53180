"""Errors of the AST front end, each naming the user's file and line."""


class UnsupportedConstruct(Exception):
    """A construct the AST front end cannot compile; the block falls back to trace mode."""

    def __init__(self, construct, filename, lineno, detail=""):
        self.construct, self.filename, self.lineno = construct, filename, lineno
        text = f"{filename}:{lineno}: AST mode cannot compile {construct}"
        super().__init__(text + (f" ({detail})" if detail else ""))


class CompileError(Exception):
    """User code that is wrong whatever the mode (an unknown name, a bad operator call)."""

    def __init__(self, message, filename, lineno):
        self.filename, self.lineno = filename, lineno
        super().__init__(f"{filename}:{lineno}: {message}")
