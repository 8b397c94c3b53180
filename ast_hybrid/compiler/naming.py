"""Fresh, readable identifiers for generated programs, derived from the user's names."""
import builtins
import keyword
import re

_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")


class Namer:
    """Hands out identifiers no other name in the program uses; the only source of names
    in generated code, so nothing read from a file ever becomes code."""

    def __init__(self, reserved=()):
        self._used = set(reserved) | set(dir(builtins)) | set(keyword.kwlist)
        self._next_counter = {}   # per base: counters below it are taken (linear, not n^2)

    def fresh(self, hint):
        base = _NOT_IDENTIFIER.sub("_", str(hint)[:40]).strip("_") or "v"
        if base[0].isdigit():
            base = "_" + base
        name, counter = base, self._next_counter.get(base, 1)
        if name in self._used or keyword.iskeyword(name):
            name = f"{base}_{counter}"
            while name in self._used:
                counter += 1
                name = f"{base}_{counter}"
            self._next_counter[base] = counter + 1
        self._used.add(name)
        return name
