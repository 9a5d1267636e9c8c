"""The local OnFailure destination: records a stream function keeps failing on, one JSON line each.

Lambda sends a batch's description to the event source's OnFailure destination (an SQS queue or SNS topic) once its
retries are spent; the records themselves stay in the stream until they expire. Locally each such record is written
whole to a JSON-lines file under the data directory, with the function, the shard, the reason and the attempts, so it
can be read, replayed or fixed by hand; and it is printed once on the console.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEAD_LETTER_FILE = "dead-letters.jsonl"


class DeadLetters:
    """Appends a line per record to `path`; safe to use from several pollers at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, *, function: str, shard_id: str, record: Mapping[str, Any], reason: str, attempts: int) -> None:
        line = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "function": function,
            "eventSourceARN": record.get("eventSourceARN"),
            "shardId": shard_id,
            "sequenceNumber": record.get("dynamodb", {}).get("SequenceNumber"),
            "attempts": attempts,
            "reason": reason,
            "record": record,
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, default=str) + "\n")

    def read(self) -> list[dict[str, Any]]:
        """Every line written so far (an empty list if none)."""
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
