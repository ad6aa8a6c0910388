"""`serve`'s AWS endpoint checks a presigned URL as S3 does: a URL whose signature is not the request's
(tampered, signed by another secret, or a signed PUT sending other bytes than it announced), one past
its expiry, or one with malformed parameters is refused in S3's XML, and reaches no object."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest
from botocore import auth
from botocore.config import Config

from local.serve.aws_endpoint import client
from local.serve.aws_faults import OBSERVER_KEY
from tests.support import HTTP, Served

KEY = "videos/presigned/vid 1/vidéo+1.mp4"
S3V4 = Config(signature_version="s3v4")


@pytest.fixture(scope="module")
def observer(served: Served) -> Any:
    return client("s3", served.aws, access_key=OBSERVER_KEY)


@pytest.fixture(scope="module")
def bucket(observer: Any) -> str:
    (found,) = (bucket["Name"] for bucket in observer.list_buckets()["Buckets"])
    observer.put_object(Bucket=found, Key=KEY, Body=b"the video", ContentType="video/mp4")
    return str(found)


@pytest.fixture(scope="module")
def sign(served: Served, bucket: str) -> Callable[..., str]:
    """A download URL as the service signs it (the type and file name baked in), by a function's client:
    it signs with the secret every key of the local account has, unless told another."""

    def signed(expires_in: int = 60, secret: str | None = None) -> str:
        s3 = client("s3", served.aws, S3V4, access_key="DownloadFunction")
        if secret is not None:
            s3 = boto3.client(
                "s3",
                endpoint_url=served.aws,
                region_name=s3.meta.region_name,
                aws_access_key_id="DownloadFunction",
                aws_secret_access_key=secret,
                config=S3V4,
            )
        return str(
            s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": bucket,
                    "Key": KEY,
                    "ResponseContentType": "video/mp4",
                    "ResponseContentDisposition": 'attachment; filename="vid_1.mp4"',
                },
                ExpiresIn=expires_in,
            )
        )

    return signed


def error(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"] == "application/xml"
    return {element.tag: element.text or "" for element in ET.fromstring(response.content)}


def test_a_presigned_get_serves_its_object_with_the_type_and_name_it_signed(sign: Callable[..., str]) -> None:
    response = HTTP.get(sign())

    assert response.status_code == 200, response.text
    assert response.content == b"the video"
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-disposition"] == 'attachment; filename="vid_1.mp4"'


def test_a_changed_url_or_another_secret_is_signature_does_not_match(
    sign: Callable[..., str], bucket: str
) -> None:
    url = sign()
    signature = url.rsplit("=", 1)[1]
    changed = {
        "signature": url[:-1] + ("0" if url[-1] != "0" else "1"),
        "path": url.replace("vid%201", "vid%202"),
        "query": url.replace("video%2Fmp4", "text%2Fhtml"),
        "secret": sign(secret="not-the-local-secret"),
    }

    answers = {what: HTTP.get(tampered) for what, tampered in changed.items()}

    for what, response in answers.items():
        assert response.status_code == 403, what
        body = error(response)
        assert body["Code"] == "SignatureDoesNotMatch", what
        assert body["Message"].startswith("The request signature we calculated does not match"), what
        assert {"StringToSign", "CanonicalRequest", "RequestId", "HostId"} <= set(body), what
    path = error(answers["path"])
    assert (path["AWSAccessKeyId"], path["SignatureProvided"]) == ("DownloadFunction", signature)
    changed_path = f"/{bucket}/videos/presigned/vid%202/vid%C3%A9o%2B1.mp4"
    assert path["CanonicalRequest"].startswith(f"GET\n{changed_path}\n")
    assert path["CanonicalRequest"].endswith("\nhost\nUNSIGNED-PAYLOAD")


def test_an_expired_url_is_refused_with_the_times_s3_shows(
    sign: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as signed_then:
        signed_then.setattr(auth, "get_current_datetime", lambda: datetime.datetime(2026, 1, 2, 3, 4, 5))
        url = sign(expires_in=60)

    response = HTTP.get(url)
    head = HTTP.head(url)

    assert response.status_code == 403
    body = error(response)
    assert (body["Code"], body["Message"]) == ("AccessDenied", "Request has expired")
    assert (body["X-Amz-Expires"], body["Expires"]) == ("60", "2026-01-02T03:05:05Z")
    assert body["ServerTime"] > body["Expires"]
    assert (head.status_code, head.content) == (403, b"")


def test_an_upload_takes_exactly_the_bytes_and_type_it_announced(
    api: httpx.Client, observer: Any, bucket: str
) -> None:
    pending = api.post("/v1/uploads", json={"filename": "a.png", "bytes": 10, "mime_type": "image/png"})
    assert pending.status_code == 201, pending.text
    upload = pending.json()
    announced = upload["upload_headers"]

    longer = HTTP.put(upload["upload_url"], content=b"x" * 5349, headers={"Content-Type": "image/png"})
    other_type = HTTP.put(upload["upload_url"], content=b"x" * 10, headers={"Content-Type": "text/html"})
    arrived_before = observer.list_objects_v2(Bucket=bucket, Prefix="uploads/").get("Contents", [])
    exact = HTTP.put(upload["upload_url"], content=b"x" * 10, headers=announced)

    assert (longer.status_code, error(longer)["Code"]) == (403, "SignatureDoesNotMatch")
    assert "content-length:5349\ncontent-type:image/png\n" in error(longer)["CanonicalRequest"]
    assert (other_type.status_code, error(other_type)["Code"]) == (403, "SignatureDoesNotMatch")
    assert not [item for item in arrived_before if item["Key"].endswith(upload["id"])]
    assert exact.status_code == 200, exact.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda url: url.replace("&X-Amz-Date=", "&X-Amz-Dated="),
            "Query-string authentication version 4 requires the X-Amz-Algorithm",
        ),
        (
            lambda url: url.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"),
            "X-Amz-Expires must be less than a week",
        ),
        (
            lambda url: url.replace("X-Amz-Expires=60", "X-Amz-Expires=soon"),
            "X-Amz-Expires should be a number",
        ),
    ],
    ids=["a parameter missing", "longer than a week", "not a number"],
)
def test_malformed_parameters_are_refused(
    sign: Callable[..., str], change: Callable[[str], str], message: str
) -> None:
    response = HTTP.get(change(sign()))

    assert response.status_code == 400
    assert error(response)["Code"] == "AuthorizationQueryParametersError"
    assert error(response)["Message"].startswith(message)


def test_an_x_amz_header_the_url_did_not_sign_is_refused(sign: Callable[..., str]) -> None:
    response = HTTP.get(sign(), headers={"x-amz-meta-note": "added"})

    assert response.status_code == 403
    body = error(response)
    assert (body["Code"], body["Message"], body["HeadersNotSigned"]) == (
        "AccessDenied",
        "There were headers present in the request which were not signed",
        "x-amz-meta-note",
    )
