"""Deliveries' rules on in-memory ports: the job's end read from the bus's event, the webhook-id stable
per event and endpoint, the retries' backoff within the retry window, a delivery given up to the
dead-letter queue once the window has passed, an endpoint failing for 3 days disabled, and which
messages of a batch Lambda deletes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import pytest

from local.serve.sqs_sources import handled
from local.serve.workers import Invocation
from videos_core import signing
from videos_core.adapters.webhook_http import Attempt
from videos_core.logic.deliveries import (
    DISABLE_AFTER_SECONDS,
    RETRY_CAP_SECONDS,
    RETRY_WINDOW_SECONDS,
    Deliverer,
    Delivery,
    DeliveryStatus,
    LoggedAttempt,
    LoggedDelivery,
    Queue,
    deliver_batch,
    event_of,
    retry_after_seconds,
    webhook_id,
)
from videos_core.ports import StoredEndpoint

BUS_EVENT = {
    "detail-type": "Video Completed",
    "detail": {"owner": "o", "video": {"id": "vid_1", "created_at": 10, "completed_at": 20}},
}


def test_a_job_end_becomes_openai_s_event_with_one_id_per_end() -> None:
    event = event_of(BUS_EVENT)
    assert (event.owner, event.video_id, event.event_type, event.created_at) == (
        "o",
        "vid_1",
        "video.completed",
        20,
    )
    assert (
        event.event_id
        == event_of(BUS_EVENT).event_id
        != event_of(BUS_EVENT | {"detail-type": "Video Failed"}).event_id
    )
    with pytest.raises(ValueError, match="not a job's end"):
        event_of({"detail-type": "Scheduled Event", "detail": {}})


def test_the_webhook_id_is_the_same_on_every_attempt_and_another_per_endpoint() -> None:
    assert webhook_id("evt_1", "we_a") == webhook_id("evt_1", "we_a") != webhook_id("evt_1", "we_b")
    assert webhook_id("evt_1", "we_a").startswith("msg_")


def test_retries_wait_exponentially_with_jitter_up_to_sqs_s_longest_visibility() -> None:
    assert [retry_after_seconds(n, draw=lambda: 1.0) for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_after_seconds(1, draw=lambda: 0.0) == 15
    assert retry_after_seconds(40, draw=lambda: 1.0) == RETRY_CAP_SECONDS
    assert retry_after_seconds(3, scale=0.01, draw=lambda: 1.0) == 2
    assert retry_after_seconds(1, scale=0.0001) == 1  # SQS counts whole seconds


def _invocation(result: object, error: dict[str, str] | None = None) -> Invocation:
    return Invocation(result, error, "", False, 0.0)


MESSAGES = [{"MessageId": "a"}, {"MessageId": "b"}]


@pytest.mark.parametrize(
    ("invocation", "deleted"),
    [
        (_invocation({"batchItemFailures": []}), ["a", "b"]),
        (_invocation({"batchItemFailures": [{"itemIdentifier": "b"}]}), ["a"]),
        (_invocation(None), ["a", "b"]),
        (_invocation({"batchItemFailures": [{"itemIdentifier": "zzz"}]}), []),  # not of the batch
        (_invocation({"batchItemFailures": [{}]}), []),
        (_invocation(None, {"errorType": "Runtime.ExitError"}), []),
    ],
)
def test_lambda_deletes_what_the_batch_handled(invocation: Invocation, deleted: list[str]) -> None:
    assert [m["MessageId"] for m in handled(MESSAGES, invocation, report_failures=True)] == deleted


OWNER = "o"


@dataclass
class Endpoints:
    endpoints: list[StoredEndpoint]

    def list(self, owner: str, limit: int, after: str | None) -> tuple[list[StoredEndpoint], bool]:
        return (self.endpoints, False) if owner == OWNER else ([], False)


class Box:
    def open(self, sealed: bytes, context: dict[str, str]) -> str:
        return sealed.decode()


@dataclass
class Log:
    deliveries: dict[str, LoggedDelivery] = field(default_factory=dict)

    def delivered(self, webhook_id: str) -> bool:
        return webhook_id in self.deliveries and self.deliveries[webhook_id].status == "delivered"

    def record(
        self, delivery: Delivery, attempt: LoggedAttempt, status: DeliveryStatus, keep_until: int
    ) -> None:
        was = self.deliveries.get(
            delivery.webhook_id, LoggedDelivery(delivery, status, attempt.attempted_at, ())
        )
        self.deliveries[delivery.webhook_id] = replace(was, status=status, attempts=(*was.attempts, attempt))


@dataclass
class Health:
    since: dict[str, int] = field(default_factory=dict)
    disabled: dict[str, str] = field(default_factory=dict)

    def failing(self, owner: str, endpoint_id: str, now: int) -> int:
        return self.since.setdefault(endpoint_id, now)

    def recovered(self, owner: str, endpoint_id: str) -> None:
        self.since.pop(endpoint_id, None)

    def disable(self, owner: str, endpoint_id: str, reason: str) -> None:
        self.disabled[endpoint_id] = reason


@dataclass
class Receiver:
    """Answers each POST with the next status of `answers` (then 200), and keeps what came."""

    answers: list[int] = field(default_factory=list)
    came: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
        self.came.append((url, headers))
        status = self.answers.pop(0) if self.answers else 200
        return Attempt(status, 0.01, *((None, None) if status < 300 else (f"Answered {status}.", "status")))


SECRET = signing.new_secret()


def _endpoint(endpoint_id: str, **changes: object) -> StoredEndpoint:
    made = StoredEndpoint(
        id=endpoint_id,
        name=endpoint_id,
        url=f"https://hooks.example.com/{endpoint_id}",
        event_types=("video.completed",),
        created_at=0,
        updated_at=0,
        secret_hint=signing.hint(SECRET),
        sealed_secret=SECRET.encode(),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


@dataclass
class Messages:
    hidden: list[tuple[str, int]] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)

    def queue(self) -> Queue:
        return Queue(lambda handle, seconds: self.hidden.append((handle, seconds)), self.given_up.append)


def _record(sent_at: int, receives: int = 1) -> dict[str, object]:
    attributes = {"ApproximateReceiveCount": str(receives), "SentTimestamp": str(sent_at * 1000)}
    return {"messageId": "m1", "receiptHandle": "h1", "body": json.dumps(BUS_EVENT), "attributes": attributes}


def _deliverer(
    endpoints: list[StoredEndpoint], receiver: Receiver, log: Log | None = None, health: Health | None = None
) -> Deliverer:
    return Deliverer(Endpoints(endpoints), Box(), log or Log(), health or Health(), receiver)  # type: ignore[arg-type]


def test_a_failed_delivery_waits_its_backoff_and_the_one_that_went_through_is_not_sent_again() -> None:
    receiver, log, messages = Receiver([200, 503]), Log(), Messages()
    deliverer = _deliverer([_endpoint("we_a"), _endpoint("we_b")], receiver, log=log)

    again = deliver_batch([_record(sent_at=1000)], deliverer, messages.queue(), now=1000)

    assert again == ["m1"]
    [(handle, seconds)] = messages.hidden
    assert handle == "h1"
    assert 15 <= seconds <= 30
    assert [d.status for d in log.deliveries.values()] == ["delivered", "pending"]
    ids = {headers["webhook-id"] for _, headers in receiver.came}
    assert deliver_batch([_record(1000, receives=2)], deliverer, messages.queue(), now=1030) == []
    assert [url.rsplit("/", 1)[-1] for url, _ in receiver.came] == ["we_a", "we_b", "we_b"]
    assert receiver.came[-1][1]["webhook-id"] in ids  # the same delivery, under the same webhook-id
    assert [len(d.attempts) for d in log.deliveries.values()] == [1, 2]


def test_no_retry_waits_past_the_window_and_a_delivery_still_failing_then_is_given_up() -> None:
    receiver, log, messages = Receiver([503, 503]), Log(), Messages()
    deliverer = _deliverer([_endpoint("we_a")], receiver, log=log)
    sent = 1000
    near_end = sent + RETRY_WINDOW_SECONDS - 5

    assert deliver_batch([_record(sent, receives=20)], deliverer, messages.queue(), now=near_end) == ["m1"]
    assert messages.hidden == [("h1", 5)]
    ended = sent + RETRY_WINDOW_SECONDS
    assert deliver_batch([_record(sent, receives=21)], deliverer, messages.queue(), now=ended) == []

    assert messages.given_up == [json.dumps(BUS_EVENT)]
    assert [d.status for d in log.deliveries.values()] == ["failed"]


def test_an_endpoint_failing_for_three_days_is_disabled_and_one_that_answers_ends_its_streak() -> None:
    health, messages = Health(), Messages()
    deliverer = _deliverer([_endpoint("we_a")], Receiver([503, 503]), health=health)

    deliver_batch([_record(0)], deliverer, messages.queue(), now=0)
    assert (health.since, health.disabled) == ({"we_a": 0}, {})
    deliver_batch([_record(0)], deliverer, messages.queue(), now=DISABLE_AFTER_SECONDS)
    assert health.disabled["we_a"] == "Every delivery failed for 3.0 days; the last: Answered 503."

    answering = _deliverer([_endpoint("we_a", failing_since=0)], Receiver([200]), health=health)
    deliver_batch([_record(0)], answering, messages.queue(), now=DISABLE_AFTER_SECONDS)
    assert health.since == {}


def test_a_disabled_endpoint_or_one_of_other_types_gets_nothing() -> None:
    receiver = Receiver()
    endpoints = [_endpoint("we_a", status="disabled"), _endpoint("we_b", event_types=("video.failed",))]

    assert deliver_batch([_record(0)], _deliverer(endpoints, receiver), Messages().queue(), now=0) == []
    assert receiver.came == []


def test_each_attempt_is_counted_and_timed_by_event_type_and_outcome(
    capsys: pytest.CaptureFixture[str],
) -> None:
    deliverer = _deliverer([_endpoint("we_a"), _endpoint("we_b")], Receiver([503]))

    deliver_batch([_record(0)], deliverer, Messages().queue(), now=0)

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = [(b["event_type"], b["outcome"]) for b in blobs if "WebhookAttempts" in b]
    assert counted == [("video.completed", "status"), ("video.completed", "delivered")]
    timed = [b["WebhookAttemptSeconds"] for b in blobs if "WebhookAttemptSeconds" in b]
    assert timed == [[0.01], [0.01]], timed  # EMF keeps a metric's values as a list
