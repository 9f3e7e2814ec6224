"""Peak memory of process trees, read from /proc (VmHWM: the kernel's resident high-water mark)."""

from __future__ import annotations

import threading
from types import TracebackType

from localstack.procs import descendants, status_kib


def vm_hwm_kib(pid: int) -> int | None:
    """Peak resident set of one process in KiB; None when it is gone (or is a zombie)."""
    return status_kib(pid, "VmHWM")


class PeakRss:
    """Samples a process tree in a thread; ``mib`` = sum over every process seen of its VmHWM.

    VmHWM only grows, so the last value read per process is its peak up to that read; a
    process that lives shorter than the interval may be missed (none of ours do).
    """

    def __init__(self, pid: int, interval_s: float = 0.5) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        for pid in descendants(self.pid):
            kib = vm_hwm_kib(pid)
            if kib is not None:
                self.peaks[pid] = max(kib, self.peaks.get(pid, 0))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    @property
    def mib(self) -> float:
        return sum(self.peaks.values()) / 1024

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
