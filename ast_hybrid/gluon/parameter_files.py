"""Parameter values from a params file or dict: names matched first, then shapes checked."""
import numpy as np

from ..ndarray import mxnet_files
from ..ndarray.io import load_arrays, parameter_name


DTYPE_SOURCES = ("current", "saved")


def load_parameter_file(filename, limits, match, cast_dtype=False, dtype_source="current"):
    """Set parameters from `filename`, this package's .npz or MXNet 1.x's own binary format
    (what its save_parameters writes). `match(names)` receives the file's names (export's
    `arg:`/`aux:` kinds removed), from the arrays' headers before any array is inflated
    (in MXNet's format, where names follow the arrays, once the arrays are read within
    `limits`), and returns {name: Parameter} for the values to set; it raises on names that do not
    fit. `limits` (LoadLimits) bound what the file may hold. A value of another dtype than
    its parameter's needs `cast_dtype`; then `dtype_source` says which of the two is kept:
    'current' casts the value, 'saved' casts the parameter, as in MXNet 1.x."""
    _check_dtype_source(filename, dtype_source)
    chosen = {}

    def expect(keys):
        chosen.update(match([parameter_name(key) for key in keys]))

    if mxnet_files.is_mxnet_file(filename):
        loaded = mxnet_files.read_arrays(filename, limits)
        expect(list(loaded))
    else:
        loaded = load_arrays(filename, limits, expect)
    values = {parameter_name(key): value for key, value in loaded.items()}
    for name, param in chosen.items():
        _set_value(filename, name, param, values[name], cast_dtype, dtype_source)


def set_values(source, arrays, match, cast_dtype=False, dtype_source="current"):
    """Set parameters from `arrays` ({name: NDArray or numpy array}), as load_parameter_file
    does from a file; `source` names them in errors."""
    _check_dtype_source(source, dtype_source)
    values = {parameter_name(key): np.asarray(value.asnumpy() if hasattr(value, "asnumpy")
                                              else value)
              for key, value in arrays.items()}
    for name, param in match(list(values)).items():
        _set_value(source, name, param, values[name], cast_dtype, dtype_source)


def match_names(source, names, targets, allow_missing=False, ignore_extra=False):
    """{name: Parameter} for the `names` of `source` that are keys of `targets`. Unless
    allow_missing, every parameter of `targets` needs a value under one of its keys (a
    shared one has several); unless ignore_extra, every name must be a key."""
    if not allow_missing:
        given = {id(targets[name]) for name in names if name in targets}
        missing = [key for key, param in targets.items() if id(param) not in given]
        if missing:
            raise KeyError(f"{source}: no values for parameters {', '.join(missing)}")
    if not ignore_extra:
        extra = [name for name in names if name not in targets]
        if extra:
            raise KeyError(f"{source}: parameters {', '.join(extra)} are not in this network "
                           f"(its parameters: {', '.join(targets)})")
    return {name: targets[name] for name in names if name in targets}


def _check_dtype_source(source, dtype_source):
    if dtype_source not in DTYPE_SOURCES:
        raise ValueError(f"{source}: dtype_source must be one of {DTYPE_SOURCES}, not "
                         f"{dtype_source!r}")


def _set_value(source, name, param, value, cast_dtype, dtype_source):
    if param.shape is not None and not param.shape_known:
        param.shape = value.shape
    expected = param._data.shape if param._data is not None else (
        param.shape if param.shape_known else value.shape)
    if expected != value.shape:
        raise ValueError(f"{source}: parameter {name!r} has shape {value.shape}, the network "
                         f"expects {expected}")
    if value.dtype != np.dtype(param.dtype):
        if not cast_dtype:
            raise ValueError(f"{source}: parameter {name!r} was saved as {value.dtype}, the "
                             f"network's is {np.dtype(param.dtype).name}; load with "
                             "cast_dtype=True to cast it")
        if dtype_source == "saved":
            param.cast(value.dtype)
    param.set_data(value)
