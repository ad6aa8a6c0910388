"""Job outcomes announced on the organisation's EventBridge bus."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.aws import error_of
from videos_core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "videos-api"


class EventBridgePublisher:
    def __init__(self, client: EventBridgeClient, bus: str) -> None:
        self._client = client
        self._bus = bus

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Puts one event on the bus; ServiceUnavailable when the bus refuses it or cannot be reached
        (an internal error when this function may not put it there)."""
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "EventBusName": self._bus,
        }
        try:
            response = self._client.put_events(Entries=[entry])  # type: ignore[list-item]
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The event bus") from e
        if response.get("FailedEntryCount"):
            raise ServiceUnavailable(f"The event bus refused the event: {response['Entries']}", retry_after=1)
