"""IAM's evaluation as the offline stack applies it: wildcards, explicit denies, conditions, and the
actions and resources each AWS call needs."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from local.iam.policy import Policy, PolicyError, parse_document
from local.iam.requests import Account, authorizations

ACCOUNT = Account("aws", "us-east-1", "123456789012")
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/videos"


def policy(*statements: Mapping[str, object]) -> Policy:
    return Policy(
        "arn:aws:iam::123456789012:role/test", parse_document("Test", {"Statement": list(statements)})
    )


def allowed(p: Policy, action: str, resource: str, context: dict[str, str | list[str]] | None = None) -> bool:
    return p.decide(action, resource, context or {}).allowed


def test_wildcards_span_slashes_and_colons_and_actions_ignore_case() -> None:
    p = policy({"Effect": "Allow", "Action": "S3:Get*", "Resource": "arn:aws:s3:::bucket/videos/*"})

    assert allowed(p, "s3:GetObject", "arn:aws:s3:::bucket/videos/vid_1/video.mp4")
    assert not allowed(p, "s3:PutObject", "arn:aws:s3:::bucket/videos/vid_1/video.mp4")
    assert not allowed(p, "s3:GetObject", "arn:aws:s3:::bucket/other/x")
    assert allowed(
        policy({"Effect": "Allow", "Action": "s3:GetObjec?", "Resource": "*"}), "s3:GetObject", "x"
    )


def test_nothing_is_allowed_unless_a_statement_allows_it_and_an_explicit_deny_wins() -> None:
    grant = {"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE}
    deny = {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}

    assert not allowed(policy(), "dynamodb:GetItem", TABLE)
    assert allowed(policy(grant, deny), "dynamodb:GetItem", TABLE)
    decision = policy(grant, deny).decide("dynamodb:DeleteItem", TABLE, {})
    assert (decision.allowed, decision.explicit_deny, decision.statement) == (False, True, "Test[1]")


def test_a_revoked_statement_no_longer_allows() -> None:
    p = policy({"Sid": "Read", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE})

    assert allowed(p, "dynamodb:GetItem", TABLE)
    assert not allowed(p.without(frozenset({"Test.Read"})), "dynamodb:GetItem", TABLE)


def test_for_all_values_allows_only_the_listed_attributes() -> None:
    p = policy(
        {
            "Effect": "Allow",
            "Action": "dynamodb:UpdateItem",
            "Resource": TABLE,
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:Attributes": ["key_hash", "last_used_at"]},
                "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE"]},
            },
        }
    )

    assert allowed(p, "dynamodb:UpdateItem", TABLE, {"dynamodb:Attributes": ["key_hash", "last_used_at"]})
    assert not allowed(p, "dynamodb:UpdateItem", TABLE, {"dynamodb:Attributes": ["key_hash", "owner"]})
    assert not allowed(
        p,
        "dynamodb:UpdateItem",
        TABLE,
        {"dynamodb:Attributes": ["key_hash"], "dynamodb:ReturnValues": "ALL_NEW"},
    )


def test_a_missing_condition_key_fails_plain_operators_and_passes_if_exists_and_negated_ones() -> None:
    def with_condition(operator: str) -> Policy:
        return policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {"k": "v"}}}
        )

    assert not allowed(with_condition("StringEquals"), "a:B", "r")
    assert allowed(with_condition("StringEqualsIfExists"), "a:B", "r")
    assert allowed(with_condition("StringNotEquals"), "a:B", "r")
    assert not allowed(with_condition("ForAnyValue:StringEquals"), "a:B", "r")


def test_a_policy_the_evaluator_cannot_judge_faithfully_is_refused() -> None:
    with pytest.raises(PolicyError, match="NumericLessThan"):
        policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"NumericLessThan": {"k": "1"}}}
        )
    with pytest.raises(PolicyError, match="Principal"):
        policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"})


def test_an_update_names_its_key_and_the_attributes_its_expressions_touch() -> None:
    [needed] = authorizations(
        "dynamodb",
        "UpdateItem",
        {
            "TableName": "videos",
            "Key": {"owner": {"S": "o"}, "video_id": {"S": "v"}},
            "UpdateExpression": "SET #status = :s, progress = if_not_exists(progress, :zero)",
            "ConditionExpression": "attribute_exists(video_id) AND NOT #status IN (:a, :b)",
            "ExpressionAttributeNames": {"#status": "status"},
        },
        ACCOUNT,
    )

    assert (needed.action, needed.resource) == ("dynamodb:UpdateItem", TABLE)
    assert needed.context["dynamodb:Attributes"] == ["owner", "progress", "status", "video_id"]
    assert "dynamodb:ReturnValues" not in needed.context


def test_a_parameter_left_to_its_default_is_no_condition_key() -> None:
    """A grant conditioned on `StringEquals dynamodb:ReturnValues NONE` (the keys' RecordKeyUse) holds
    for an update that says NONE, and not for one that leaves ReturnValues out: IAM judges the request
    as sent, and a key it does not carry matches no StringEquals."""
    record_use = policy(
        {
            "Effect": "Allow",
            "Action": "dynamodb:UpdateItem",
            "Resource": TABLE,
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:Attributes": ["key_hash", "last_used_at"]},
                "StringEquals": {"dynamodb:ReturnValues": ["NONE"]},
            },
        }
    )
    update = {
        "TableName": "videos",
        "Key": {"key_hash": {"S": "h"}},
        "UpdateExpression": "SET last_used_at = :now",
        "ExpressionAttributeValues": {":now": {"N": "1"}},
    }

    def judged(request: Mapping[str, object]) -> bool:
        [needed] = authorizations("dynamodb", "UpdateItem", request, ACCOUNT)
        return record_use.decide(needed.action, needed.resource, needed.context).allowed

    assert not judged(update)
    assert judged(update | {"ReturnValues": "NONE"})
    assert not judged(update | {"ReturnValues": "ALL_NEW"})


def test_null_tests_whether_the_request_carries_the_key() -> None:
    def with_null(value: str) -> Policy:
        return policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Null": {"k": value}}}
        )

    assert allowed(with_null("true"), "a:B", "r")
    assert not allowed(with_null("true"), "a:B", "r", {"k": "v"})
    assert allowed(with_null("false"), "a:B", "r", {"k": "v"})
    assert not allowed(with_null("false"), "a:B", "r")
    with pytest.raises(PolicyError, match="true or false"):
        with_null("maybe")


def test_calls_name_the_resources_iam_authorizes() -> None:
    query = authorizations(
        "dynamodb", "Query", {"TableName": "videos", "IndexName": "by-upstream-id"}, ACCOUNT
    )
    transaction = authorizations(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Update": {"TableName": "quotas", "Key": {}}},
                {"Put": {"TableName": "b", "Item": {}}},
            ]
        },
        ACCOUNT,
    )
    parameter = authorizations("ssm", "GetParameter", {"Name": "/videos-api/key"}, ACCOUNT)
    bus = authorizations("events", "PutEvents", {"Entries": [{"Detail": "{}"}]}, ACCOUNT)
    uploads = authorizations("s3", "ListMultipartUploads", {"Bucket": "b", "Prefix": "videos/"}, ACCOUNT)
    part = authorizations("s3", "UploadPart", {"Bucket": "b", "Key": "videos/v/video.mp4"}, ACCOUNT)

    assert [(a.action, a.resource) for a in query] == [("dynamodb:Query", f"{TABLE}/index/by-upstream-id")]
    assert [a.action for a in transaction] == ["dynamodb:UpdateItem", "dynamodb:PutItem"]
    assert parameter[0].resource == "arn:aws:ssm:us-east-1:123456789012:parameter/videos-api/key"
    assert bus[0].resource == "arn:aws:events:us-east-1:123456789012:event-bus/default"
    assert [(a.action, a.resource) for a in uploads] == [("s3:ListBucketMultipartUploads", "arn:aws:s3:::b")]
    assert [(a.action, a.resource) for a in part] == [("s3:PutObject", "arn:aws:s3:::b/videos/v/video.mp4")]
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    batch = authorizations("sqs", "DeleteMessageBatch", {"QueueUrl": queue, "Entries": []}, ACCOUNT)
    assert [(a.action, a.resource) for a in batch] == [
        ("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:123456789012:q")
    ]
    assert authorizations("sns", "Publish", {"TopicArn": "t"}, ACCOUNT)[0].resource == "*"


def test_bedrock_calls_and_a_copy_name_everything_iam_authorizes() -> None:
    output = {"s3OutputDataConfig": {"s3Uri": "s3://b/upstream/bedrock"}}
    start = authorizations(
        "bedrock-runtime",
        "StartAsyncInvoke",
        {"modelId": "luma.ray-v2:0", "outputDataConfig": output},
        ACCOUNT,
    )
    arn = "arn:aws:bedrock:us-east-1:123456789012:async-invoke/abc"
    read = authorizations("bedrock-runtime", "GetAsyncInvoke", {"invocationArn": arn}, ACCOUNT)
    copy = authorizations(
        "s3",
        "CopyObject",
        {"Bucket": "b", "Key": "videos/v", "CopySource": {"Bucket": "b", "Key": "up/o"}},
        ACCOUNT,
    )

    # Bedrock writes the output with its caller's own permissions, in a folder of the invocation's id.
    assert [(a.action, a.resource) for a in start] == [
        ("bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/luma.ray-v2:0"),
        ("s3:PutObject", "arn:aws:s3:::b/upstream/bedrock/<invocation id>/output.mp4"),
    ]
    assert [(a.action, a.resource) for a in read] == [("bedrock:GetAsyncInvoke", arn)]
    assert [(a.action, a.resource) for a in copy] == [
        ("s3:PutObject", "arn:aws:s3:::b/videos/v"),
        ("s3:GetObject", "arn:aws:s3:::b/up/o"),
    ]
