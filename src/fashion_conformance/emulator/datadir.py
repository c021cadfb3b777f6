"""One running emulator per data directory: an exclusive lock on `emulator.lock` in it, held while the emulator
runs. The kernel drops the lock when the process ends, however it ends (kill -9 included), so a restart on the
same directory never waits; a second emulator on a directory in use is refused at start instead of sharing it
(the store keeps services in memory and fails interrupted jobs when it opens: two at once would disagree)."""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no lock
    fcntl = None

LOCK_FILE = "emulator.lock"


class DataDirInUse(Exception):
    pass


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        path = Path(data_dir) / LOCK_FILE
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            self.release()
            raise DataDirInUse(f"{data_dir} is in use by another emulator (pid {holder})") from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
