"""What the optimization passes' tests share: passes applied to a function's source, and three
copies of a network on one set of weights (imperative, optimized, unoptimized)."""
import ast

from ast_hybrid import ops
from ast_hybrid.compiler.naming import Namer
from ast_hybrid.compiler.optimize import OptimizeInfo, optimize


def optimized_source(source, kernels, arguments, passes):
    """The source of the function in `source` after `passes`; `kernels` maps each name the
    function calls as a kernel to its operator's name, `arguments` are its parameters."""
    namer = Namer()
    for name in list(kernels) + list(arguments):
        namer.fresh(name)
    info = OptimizeInfo({name: ops.get(op) for name, op in kernels.items()},
                        {name: ops.get(op).kernel for name, op in kernels.items()}, namer,
                        tuple(arguments))
    return ast.unparse(optimize(ast.parse(source).body[0], info, tuple(passes)))


def three_copies(make, x, set_weights):
    """[imperative, optimized, unoptimized] copies of the network `make()` makes, each called
    on `x` once, the first's parameters set by `set_weights(net)` and copied to the others."""
    nets = [make() for _ in range(3)]
    for net in nets:
        net.initialize()
        net(x)
    set_weights(nets[0])
    for net in nets[1:]:
        for p, q in zip(nets[0].collect_params().values(), net.collect_params().values()):
            q.set_data(p.data())
    nets[1].hybridize()
    nets[2].hybridize(optimize=False)
    return nets
