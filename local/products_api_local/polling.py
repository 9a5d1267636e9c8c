"""A poll loop in a daemon thread: what the stream pollers and the S3 notification pollers share."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field


@dataclass(eq=False)
class PollLoop:
    """Calls `poll_once` every `interval` seconds until stopped. A failure (DynamoDB Local or moto going away while
    stopping, or a bug) is logged, and the next poll waits `backoff` seconds more: polling goes on, more slowly.
    """

    poll_once: Callable[[], object]
    _: KW_ONLY
    thread_name: str
    describe: str
    log: Callable[[str], None]
    interval: Callable[[], float]
    backoff: Callable[[], float]
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Stop polling (a poll under way finishes first); False if it did not stop within `timeout`."""
        self._stop.set()
        if self._thread.ident is not None:  # a stop during start-up may come before the thread was started
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, and no longer once stopped."""
        self._stop.wait(seconds)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                if not self._stop.is_set():
                    self.log(f"{self.describe}: polling failed:\n{traceback.format_exc().rstrip()}")
                self._stop.wait(self.backoff())
            self._stop.wait(self.interval())
