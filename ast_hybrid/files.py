"""Replacing files so that a crash at any moment leaves the old content or the new, never a mix."""
import errno
import hashlib
import os
import secrets
import stat

_TEMPORARY_PREFIX = ".tmp-"


def resolve_target(fname):
    """The file a write to `fname` must replace: a symlink's target, so the link stays a link."""
    return os.path.realpath(fname)


def _temporary_name(target):
    folder, base = os.path.split(target)
    return os.path.join(folder, f"{_TEMPORARY_PREFIX}{base}.{os.getpid()}.{secrets.token_hex(4)}")


def _writer_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # another user's process: alive, and its file is not ours
        return True
    return True


def remove_stale_temporaries(target):
    """Delete the temporary files that interrupted writes of `target` left behind.

    A temporary's name carries its writer's process id, so one that a live process is still
    writing (a concurrent save of the same file) is left alone."""
    folder, base = os.path.split(target)
    prefix = f"{_TEMPORARY_PREFIX}{base}."
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid, _, token = name[len(prefix):].partition(".")
        if not pid.isdigit() or len(token) != 8 or _writer_alive(int(pid)):
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except FileNotFoundError:
            pass


def sync_folder(folder):
    """Make a rename in `folder` durable (a no-op where folders cannot be opened, as on Windows)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(handle)


def _naming_target(err, fname):
    """The same error about `fname` the user asked for, not about our temporary name."""
    return type(err)(err.errno, err.strerror, fname)


def write_temporary(fname, write, binary=True):
    """(target, temporary): `write(stream)`'s output in a synced temporary beside `fname`'s
    target, with the mode of the file it will replace (the umask's for a new file)."""
    target = resolve_target(fname)
    remove_stale_temporaries(target)
    temporary = _temporary_name(target)
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:
        raise _naming_target(err, fname) from None
    try:
        try:
            os.fchmod(handle, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        with os.fdopen(handle, "wb" if binary else "w", encoding=None if binary else "utf-8") \
                as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        discard(temporary)
        raise
    return target, temporary


def commit(temporary, target):
    """Rename a synced temporary over its target, durably."""
    try:
        os.replace(temporary, target)
    except BaseException:
        discard(temporary)
        raise
    sync_folder(os.path.dirname(target))


def discard(temporary):
    try:
        os.unlink(temporary)
    except FileNotFoundError:
        pass


def write_atomically(fname, write, binary=True):
    """Replace `fname` (or its symlink's target) with what `write(stream)` writes."""
    target, temporary = write_temporary(fname, write, binary)
    commit(temporary, target)


def file_digest(fname):
    """SHA-256 of a file's bytes, read in blocks (bounded memory whatever its size)."""
    digest = hashlib.sha256()
    with open(fname, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
