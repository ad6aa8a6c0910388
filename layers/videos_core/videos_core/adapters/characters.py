"""Characters kept in the bucket, one small JSON object each under its owner's hash (as uploads are):
another owner's character id finds nothing."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.aws import error_of, missing_object
from videos_core.ports import StoredCharacter

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "characters/"


def character_key(owner: str, character_id: str) -> str:
    return f"{PREFIX}{hashlib.sha256(owner.encode()).hexdigest()[:32]}/{character_id}.json"


class S3CharacterStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, owner: str, character: StoredCharacter) -> None:
        body = json.dumps(character.__dict__).encode()
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=character_key(owner, character.id),
                Body=body,
                ContentType="application/json",
            )
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The bucket") from e

    def get(self, owner: str, character_id: str) -> StoredCharacter | None:
        try:
            found = self._client.get_object(Bucket=self._bucket, Key=character_key(owner, character_id))
        except ClientError as e:
            if missing_object(e):
                return None
            raise error_of(e, "The bucket") from e
        except BotoCoreError as e:
            raise error_of(e, "The bucket") from e
        with found["Body"] as body:
            return StoredCharacter(**json.loads(body.read()))
