"""An export's two files, replaced so that a crash at any moment leaves a pair that loads.

The graph records the SHA-256 of the params file written with it, and the signature (names,
shapes, dtypes) of its parameters. An export writes both new files to synced temporaries,
keeps a hard link to the params file that the current graph records as `<params>.previous`,
renames the params file, then the graph, and drops the link. A kill between the two renames
leaves the old graph beside the new params: import sees the digests disagree and reads the
kept previous params instead, so the previous pair loads.
"""
import os
import shutil

import numpy as np

from .files import (commit, discard, file_digest, resolve_target, sync_folder,
                    write_temporary)
from .ndarray.io import LoadError, array_headers, check_array_names, parameters_signature
from .symbol.json_graph import (PARAMS_FILE_DIGEST, PARAMS_SIGNATURE, GraphFormatError,
                                graph_to_text, read_graph_file)

_PREVIOUS_SUFFIX = ".previous"


def previous_params_name(params_target):
    return params_target + _PREVIOUS_SUFFIX


def _recorded_digest(symbol_file):
    try:
        return read_graph_file(symbol_file)[1].get(PARAMS_FILE_DIGEST)
    except (OSError, GraphFormatError):
        return None


def _digest_or_none(fname):
    try:
        return file_digest(fname)
    except FileNotFoundError:
        return None


def _keep_params_of_current_graph(symbol_file, params_target):
    """Make `<params>.previous` the params file the current graph was exported with, if any."""
    previous = previous_params_name(params_target)
    recorded = _recorded_digest(symbol_file)
    if recorded is not None and _digest_or_none(previous) == recorded \
            and _digest_or_none(params_target) != recorded:
        return      # an interrupted export left it: still the only match of the graph
    discard(previous)
    if recorded is None or _digest_or_none(params_target) != recorded:
        return
    try:
        os.link(params_target, previous)
    except OSError:              # a file system without hard links
        shutil.copyfile(params_target, previous)
    sync_folder(os.path.dirname(params_target))


def write_pair(graph, symbol_file, arrays, params_file):
    """Replace `symbol_file` and `params_file` by `graph` and `arrays`, as one."""
    check_array_names(params_file, arrays)
    params_target, params_temporary = write_temporary(
        params_file, lambda stream: np.savez(stream, **arrays))
    symbol_temporary, params_replaced = None, False
    try:
        recorded = {PARAMS_FILE_DIGEST: file_digest(params_temporary),
                    PARAMS_SIGNATURE: parameters_signature(array_headers(params_temporary))}
        text = graph_to_text(graph, recorded)
        symbol_target, symbol_temporary = write_temporary(
            symbol_file, lambda stream: stream.write(text), binary=False)
        _keep_params_of_current_graph(symbol_target, params_target)
        commit(params_temporary, params_target)
        params_replaced = True
        commit(symbol_temporary, symbol_target)
    except BaseException:
        discard(params_temporary)
        if symbol_temporary is not None:
            discard(symbol_temporary)
        if not params_replaced:      # the old pair is intact: its kept copy is not needed
            discard(previous_params_name(params_target))
        raise
    discard(previous_params_name(params_target))
    sync_folder(os.path.dirname(params_target))


def params_file_for(symbol_file, recorded, param_file):
    """The params file to load beside a graph: `param_file` if it belongs with the graph,
    else the previous params an interrupted export kept; a mismatched pair raises LoadError."""
    digest = recorded.get(PARAMS_FILE_DIGEST)
    if digest is None:           # a graph MXNet wrote: nothing recorded to check
        return param_file
    if file_digest(param_file) == digest:
        return param_file
    previous = previous_params_name(resolve_target(param_file))
    if _digest_or_none(previous) == digest:
        return previous
    signature = recorded.get(PARAMS_SIGNATURE)
    if signature is not None and parameters_signature(array_headers(param_file)) == signature:
        return param_file        # the same parameters with other values (saved after training)
    raise LoadError(f"mismatched pair: {param_file} is not the params file {symbol_file} was "
                    "exported with, and its parameters (names, shapes or dtypes) differ from "
                    "the graph's; load the params file exported with this graph")
