"""Where a stream function has got to in each shard, kept across restarts of the runner.

Lambda's event source keeps, per shard, the sequence number of the last record it has finished with (processed, or
sent to the OnFailure destination); after a restart it carries on from there, so nothing is delivered twice or
skipped. Locally the checkpoints of one event source are a JSON file under the data directory, rewritten whole
(write, then rename) after every batch, so a runner stopped at any moment leaves the old or the new one, never half.
Without a data directory (--in-memory) the stream is gone with the data, and the checkpoints live in memory only.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


class Checkpoints:
    """Shard id -> sequence number of the last record finished with, saved to `path` (None: in memory only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._positions: dict[str, str] = {}
        if path is not None and path.is_file():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(loaded, dict) or not all(
                isinstance(key, str) and isinstance(value, str) for key, value in loaded.items()
            ):
                raise ValueError(f"{path} is not a map of shard ids to sequence numbers: delete it to start over")
            self._positions = loaded

    def positions(self) -> dict[str, str]:
        with self._lock:
            return dict(self._positions)

    def get(self, shard_id: str) -> str | None:
        with self._lock:
            return self._positions.get(shard_id)

    def advance(self, shard_id: str, sequence_number: str) -> None:
        with self._lock:
            self._positions[shard_id] = sequence_number
            if self.path is None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self._positions, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.path)
