"""Imperative vs symbolic programming, as the lecture shows it.

Imperative: each line runs as Python reaches it. Symbolic: first build the whole program
(here, as a string of Python source), then compile it once and run it. ast_hybrid's
hybridize() does the second for hybrid_forward: it builds the program from your source.

Run:  python samples/symbolic_programming.py
"""


# ----- imperative programming
def add(a, b):
    return a + b


def fancy_func(a, b, c, d):
    e = add(a, b)
    f = add(c, d)
    g = add(e, f)
    return g


print("Imperative:")
print(fancy_func(1, 2, 3, 4))


# ----- symbolic programming: the program is data until it is compiled
def add_str():
    return '''
def add(a, b):
    return a + b
'''


def fancy_func_str():
    return '''
def fancy_func(a, b, c, d):
    e = add(a, b)
    f = add(c, d)
    g = add(e, f)
    return g
'''


def evoke_str():
    return add_str() + fancy_func_str() + '''
print(fancy_func(1, 2, 3, 4))
'''


print("Symbolic: the program string")
prog = evoke_str()
print(prog)
y = compile(prog, '', 'exec')
print("Symbolic: compiled and run")
exec(y)
