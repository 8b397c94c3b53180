"""Run a compatibility script under MXNet or under ast_hybrid, and record or compare outputs.

    python tools/compat/run.py --mxnet nd_basics            # MXNet 1.9.1 (/tmp/mx/bin/python)
    python tools/compat/run.py nd_basics                    # ast_hybrid, through the shim
    python tools/compat/run.py --record [NAME ...]          # MXNet's outputs -> tests/data/compat
    python tools/compat/run.py --compare [NAME ...]         # ast_hybrid's outputs vs recorded

Under ast_hybrid the script is run unchanged: the runner writes a package named `mxnet` into
a temporary directory (never into the repository) whose `__init__.py` re-exports ast_hybrid
and aliases `mxnet.<submodule>` to ast_hybrid's modules in `sys.modules`, and puts that
directory first on PYTHONPATH. MXNet itself runs only as its own interpreter, MXNET_PYTHON
(default /tmp/mx/bin/python).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "tests", "data", "compat")
MXNET_PYTHON = os.environ.get("MXNET_PYTHON", "/tmp/mx/bin/python")

SHIM = '''"""mxnet -> ast_hybrid shim written by tools/compat/run.py (temporary, never committed)."""
import importlib
import pkgutil
import sys

import ast_hybrid
from ast_hybrid import *  # noqa: F401,F403
from ast_hybrid import (autograd, context, gluon, initializer, metric, nd, ndarray,  # noqa: F401
                        random, sym, symbol)
from ast_hybrid.base import MXNetError  # noqa: F401

init = initializer
__version__ = ast_hybrid.__version__


def _alias_tree(package, prefix):
    sys.modules[prefix] = package
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.startswith("ast_hybrid.compiler") or info.name.endswith("bench"):
            continue
        module = importlib.import_module(info.name)
        sys.modules[prefix + info.name[len(package.__name__):]] = module


for _name in ("autograd", "context", "initializer", "metric", "name", "random", "base",
              "optimizer"):
    sys.modules[__name__ + "." + _name] = importlib.import_module("ast_hybrid." + _name)
_alias_tree(ast_hybrid.gluon, __name__ + ".gluon")
_alias_tree(ast_hybrid.ndarray, __name__ + ".ndarray")
_alias_tree(ast_hybrid.symbol, __name__ + ".symbol")
sys.modules[__name__ + ".nd"] = ast_hybrid.ndarray
sys.modules[__name__ + ".sym"] = ast_hybrid.symbol
sys.modules[__name__ + ".init"] = ast_hybrid.initializer
optimizer = sys.modules[__name__ + ".optimizer"]
'''


def script_path(name):
    return os.path.join(HERE, name if name.endswith(".py") else name + ".py")


def scripts():
    return sorted(f[:-3] for f in os.listdir(HERE)
                  if f.endswith(".py") and f not in ("run.py", "__init__.py"))


def run_mxnet(name, timeout=600):
    return subprocess.run([MXNET_PYTHON, script_path(name)], capture_output=True, text=True,
                          cwd=HERE, timeout=timeout)


def run_ast_hybrid(name, timeout=600, python=sys.executable):
    with tempfile.TemporaryDirectory(prefix="compat_shim_") as shim_dir:
        os.mkdir(os.path.join(shim_dir, "mxnet"))
        with open(os.path.join(shim_dir, "mxnet", "__init__.py"), "w") as stream:
            stream.write(SHIM)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [shim_dir, ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        return subprocess.run([python, script_path(name)], capture_output=True, text=True,
                              cwd=HERE, env=env, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# comparison: each line splits into numbers and the text between them; the text must be equal,
# the numbers close.
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)\b")


def split_line(line):
    """(text with each number replaced by '#' and blanks removed, [(value, ulp)]):
    ulp is one unit in the last printed decimal place, so '0.7698' may be 0.7699 elsewhere."""
    numbers = []
    for match in NUMBER.finditer(line):
        token = match.group()
        mantissa, _, exponent = token.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        # integers and whole floats ('3', '1.') are exact: shapes, counts, labels
        ulp = 10.0 ** (int(exponent or 0) - decimals) if decimals else 0.0
        numbers.append((float(token), ulp))
    text = re.sub(r"\s+", "", NUMBER.sub("#", line))
    return text, numbers


def compare_outputs(expected, actual, rtol=1e-4, atol=1e-5, tolerated=()):
    """Return a list of differences (empty when the outputs agree).

    Lines are compared in order, blank lines ignored. The text around the numbers must be the
    same but for blanks (numpy pads columns differently when the digits differ);
    each number must be within atol + rtol * |MXNet's|, or within one unit of the last
    decimal MXNet printed ('%.4f' rounds differently for a difference in the 7th digit).
    tolerated: (regex, reason) pairs; a line of MXNet's output matching a regex is not
    compared (an intended difference, such as the attributes the symbol JSON writes)."""
    problems = []
    exp_lines = [l for l in expected.splitlines() if l.strip()]
    act_lines = [l for l in actual.splitlines() if l.strip()]
    if len(exp_lines) != len(act_lines):
        problems.append("line count: MXNet %d, ast_hybrid %d" % (len(exp_lines), len(act_lines)))
    for number, (exp, act) in enumerate(zip(exp_lines, act_lines), 1):
        exp_text, exp_nums = split_line(exp)
        act_text, act_nums = split_line(act)
        if any(re.search(pattern, exp) for pattern, _ in tolerated):
            continue
        if exp_text != act_text:
            problems.append("line %d text:\n  MXNet:      %s\n  ast_hybrid: %s" % (number, exp, act))
            continue
        if len(exp_nums) != len(act_nums):
            problems.append("line %d numbers:\n  MXNet:      %s\n  ast_hybrid: %s"
                            % (number, exp, act))
            continue
        for (e, ulp), (a, _) in zip(exp_nums, act_nums):
            if e != e and a != a:
                continue
            if not abs(e - a) <= max(atol + rtol * abs(e), ulp * 1.0001):
                problems.append("line %d value %r != %r:\n  MXNet:      %s\n  ast_hybrid: %s"
                                % (number, e, a, exp, act))
                break
        if len(problems) > 20:
            break
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--mxnet", action="store_true", help="run under MXNet and print")
    group.add_argument("--record", action="store_true", help="record MXNet's outputs")
    group.add_argument("--compare", action="store_true", help="compare with the records")
    args = parser.parse_args(argv)
    names = args.names or scripts()
    status = 0
    for name in names:
        if args.record:
            result = run_mxnet(name)
            if result.returncode:
                sys.stderr.write(result.stderr)
                return 1
            os.makedirs(DATA, exist_ok=True)
            with open(os.path.join(DATA, name + ".txt"), "w") as stream:
                stream.write(result.stdout)
            print("recorded", name)
        elif args.compare:
            result = run_ast_hybrid(name)
            if result.returncode:
                print("FAIL %s: exit %d\n%s" % (name, result.returncode, result.stderr[-3000:]))
                status = 1
                continue
            with open(os.path.join(DATA, name + ".txt")) as stream:
                expected = stream.read()
            problems = compare_outputs(expected, result.stdout)
            print(("ok   %s" % name) if not problems else
                  "FAIL %s:\n%s" % (name, "\n".join(problems)))
            status |= bool(problems)
        else:
            result = run_mxnet(name) if args.mxnet else run_ast_hybrid(name)
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            status |= result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
