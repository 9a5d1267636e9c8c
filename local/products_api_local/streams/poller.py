"""Lambda's DynamoDB event source for one function: poll the table's stream, filter, invoke, retry, bisect, dead-letter.

As Lambda does (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html):
- each shard is read in order, one batch at a time, up to the source's BatchSize records; records the FilterCriteria
  do not select are never passed to the function (and count as done);
- a batch fails when the invocation fails (raised, timed out), or, with ReportBatchItemFailures, from the first
  record the function names in `batchItemFailures` on: the records before it are done;
- with BisectBatchOnFunctionError, the failed part of a batch is split in two and each half retried on its own, the
  first half first (splitting does not count against the retries), down to the single record that fails;
- a part retried MaximumRetryAttempts times (the template's; without one, Lambda retries until the record expires,
  here `LOCAL_RETRY_CAP` times) goes to the OnFailure destination: locally the dead-letter file
  (`products_api_local.streams.dead_letters`), with its reason, printed once. Nothing else is dropped, and the
  records of a product keep their order (a later record is never delivered before an earlier one of the shard);
- after each batch the shard's checkpoint moves past it (`products_api_local.streams.checkpoints`), so a restart
  neither replays nor loses records. A batch cut short by the runner stopping is not checkpointed: it is delivered
  again on the next start, as Lambda retries a batch whose invocation it never finished.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from products_api_local.functions.containers import Invocation, Invoker
from products_api_local.polling import PollLoop
from products_api_local.streams.checkpoints import Checkpoints
from products_api_local.streams.dead_letters import DeadLetters
from products_api_local.streams.reader import StreamReader
from products_api_local.streams.sources import StreamSource

# Lambda polls a stream shard about four times a second.
POLL_SECONDS = 0.25
RETRY_SECONDS = 1.0
# Retries of a failing batch when the template sets no MaximumRetryAttempts (Lambda: until the records expire).
LOCAL_RETRY_CAP = 10


def first_failed_sequence_number(result: Any, records: Sequence[Mapping[str, Any]]) -> str | None:
    """Where Lambda resumes after a partial batch response: the lowest sequence number reported, None if none.

    An identifier that names no record of the batch fails the whole batch, as in Lambda.
    """
    failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
    if not failures:
        return None
    known = [str(record["dynamodb"]["SequenceNumber"]) for record in records]
    reported = [str(failure.get("itemIdentifier")) for failure in failures if isinstance(failure, Mapping)]
    if not reported or any(identifier not in known for identifier in reported):
        return known[0]
    return min(reported, key=known.index)


@dataclass(eq=False)
class StreamPoller:
    source: StreamSource
    function: Invoker
    reader: StreamReader
    log: Callable[[str], None]
    _: KW_ONLY
    checkpoints: Checkpoints
    dead_letters: DeadLetters
    # read at each wait: a test may shorten the intervals of a poller already built
    retry_seconds: float = RETRY_SECONDS
    poll_seconds: float = POLL_SECONDS
    name: str = field(init=False)
    _loop: PollLoop = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"{self.source.table} stream -> {self.source.function}"
        self._loop = PollLoop(
            self.poll_once,
            thread_name=f"stream-{self.source.function}",
            describe=self.name,
            log=lambda line: self.log(line),
            interval=lambda: self.poll_seconds,
            backoff=lambda: self.retry_seconds * 5,
        )

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float) -> bool:
        """Stop polling (an invocation under way finishes first); False if it did not stop within `timeout`."""
        return self._loop.stop(timeout)

    def poll_once(self) -> None:
        """Deliver what the stream holds beyond the checkpoints, one batch per shard at a time."""
        for batch in self.reader.batches(self.source.batch_size):
            try:
                finished = self.deliver(batch.records, batch.shard_id)
            except Exception:
                # not attributable to the function (the runner itself failed): read the batch again next time
                self.reader.rewind(batch.shard_id, self.checkpoints.get(batch.shard_id))
                raise
            if not finished:
                return

    def deliver(self, records: list[dict[str, Any]], shard_id: str = "local") -> bool:
        """Invoke the function on the records its filter selects, retrying, bisecting and dead-lettering failures as
        Lambda does; then checkpoint the batch. False if a stop cut it short (nothing checkpointed)."""
        if not records:
            return True
        selected = [record for record in records if self.source.selects(record)]
        retries = LOCAL_RETRY_CAP if self.source.maximum_retry_attempts < 0 else self.source.maximum_retry_attempts
        # (records, failed attempts so far), in stream order: the head is always the earliest record not yet done
        work: deque[tuple[list[dict[str, Any]], int]] = deque([(selected, 0)] if selected else [])
        while work:
            if self._loop.stopped():
                return False
            batch, failures = work.popleft()
            invocation = self.function.invoke({"Records": batch})
            failed_at, reason = self._failure(invocation, batch)
            remaining = [] if failed_at is None else batch[failed_at:]
            cold = (
                "" if invocation.init_seconds is None else f", cold start: init {invocation.init_seconds * 1000:.0f} ms"
            )
            self.log(
                f"{self.name}: {len(batch)} record(s), {len(remaining)} failed, "
                f"{invocation.elapsed_seconds * 1000:.1f} ms{cold}" + (f" ({_summary(reason)})" if remaining else "")
            )
            if not remaining:
                continue
            if self.source.bisect_on_error and len(remaining) > 1:
                half = len(remaining) // 2
                work.extendleft([(remaining[half:], failures), (remaining[:half], failures)])
                continue
            failures += 1
            if failures > retries:
                self._dead_letter(remaining, shard_id, reason, failures)
                continue
            work.appendleft((remaining, failures))
            self._loop.wait(self.retry_seconds)
        self.checkpoints.advance(shard_id, str(records[-1]["dynamodb"]["SequenceNumber"]))
        return True

    def _failure(self, invocation: Invocation, records: list[dict[str, Any]]) -> tuple[int | None, str]:
        """Where the batch failed (an index into it) and why; None when all of it was processed."""
        if invocation.error is not None:
            return 0, invocation.error
        if not self.source.reports_item_failures:
            return None, ""
        sequence_number = first_failed_sequence_number(invocation.result, records)
        if sequence_number is None:
            return None, ""
        index = next(i for i, record in enumerate(records) if record["dynamodb"]["SequenceNumber"] == sequence_number)
        return index, "the function reported it in batchItemFailures"

    def _dead_letter(self, records: list[dict[str, Any]], shard_id: str, reason: str, attempts: int) -> None:
        for record in records:
            self.dead_letters.send(
                function=self.source.function, shard_id=shard_id, record=record, reason=reason, attempts=attempts
            )
        numbers = ", ".join(str(record["dynamodb"]["SequenceNumber"]) for record in records)
        self.log(
            f"{self.name}: gave up on {len(records)} record(s) (sequence number {numbers}) after {attempts} "
            f"attempt(s); written to {self.dead_letters.path} (in AWS: the OnFailure destination). Reason: {reason}"
        )


def _summary(reason: str) -> str:
    """The last line of a traceback (the exception), or the reason itself: the full text is printed once, when the
    record is given up."""
    lines = [line for line in reason.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else reason
