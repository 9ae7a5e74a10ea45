"""Atomic file writes: a reader never sees a half-written file under its final name."""

import os
import tempfile
from pathlib import Path

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: files get the mode open() would give them (mkstemp's is 0600)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no partial file is ever visible under that name.

    The bytes go to a hidden temporary file in the same directory, are flushed and fsync'ed,
    and the file is renamed over ``path``; the directory is then fsync'ed so the rename
    survives a crash. The file gets the permissions a plain ``open`` would give it.
    """
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o666 & ~_UMASK)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(directory)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(directory)
