"""Generated programs' sources as files of a temporary folder, so that every traceback printer
(the interpreter's own reads files, not linecache) shows their lines; each file goes with its
program, and the folder when the process exits."""
import atexit
import os
import re
import shutil
import tempfile
import threading

_lock = threading.Lock()
_folder = None


def _the_folder():
    global _folder
    with _lock:
        if _folder is None or not os.path.isdir(_folder):
            _folder = tempfile.mkdtemp(prefix="ast_hybrid-programs-")
            atexit.register(_remove_folder, _folder, os.getpid())
        return _folder


def _remove_folder(folder, owner):
    if os.getpid() == owner:        # not from a forked child, whose parent still runs
        shutil.rmtree(folder, ignore_errors=True)


def write(label, number, source):
    """The path of a new file holding `source`, named after the program's label and its
    number (unique within the process)."""
    stem = re.sub(r"[^0-9A-Za-z._-]", "_", label)[:80]
    path = os.path.join(_the_folder(), f"{stem}-{number}.py")
    with open(path, "w", encoding="utf-8") as file:
        file.write(source)
    return path


def remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def is_program_file(filename):
    """Whether `filename` is one of the generated programs' files."""
    return _folder is not None and os.path.dirname(filename) == _folder


def count():
    """How many programs' files there are now (one per live program)."""
    return len(os.listdir(_folder)) if _folder is not None and os.path.isdir(_folder) else 0
