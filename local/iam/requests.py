"""What IAM authorizes for one AWS API call: the action, the resource's ARN and the condition keys the
request carries, as each service's authorization reference defines them. One call may need several
(a DynamoDB transaction: one per item; an S3 multi-object delete: one per key)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.iam.policy import RequestContext


@dataclass(frozen=True)
class Account:
    partition: str
    region: str
    account_id: str

    def arn(self, service: str, resource: str, *, regional: bool = True, owned: bool = True) -> str:
        region = self.region if regional else ""
        account = self.account_id if owned else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"


@dataclass(frozen=True)
class Authorization:
    action: str
    resource: str
    context: RequestContext = field(default_factory=dict)
    # For calls AWS authorizes per part (an S3 multi-object delete's keys): which part this is.
    part: str | None = None


# boto3's service names -> IAM's service prefixes, where they differ.
_PREFIXES = {"stepfunctions": "states", "appconfigdata": "appconfig", "bedrock-runtime": "bedrock"}
_NAME_IN_EXPRESSION = re.compile(r"#[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*")
_EXPRESSION_WORDS = frozenset(
    {"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "IN", "BETWEEN"}
    | {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size"}
    | {"if_not_exists", "list_append"}
)


def authorizations(
    service: str, operation: str, params: Mapping[str, Any], account: Account
) -> list[Authorization]:
    prefix = _PREFIXES.get(service, service)
    mapper = _MAPPERS.get(prefix)
    if mapper is not None:
        found = mapper(operation, params, account)
        if found is not None:
            return found
    # An operation without a resource type is authorized on "*".
    return [Authorization(f"{prefix}:{operation}", "*")]


# ---- DynamoDB ------------------------------------------------------------------------------------


def _expression_names(expression: str | None, names: Mapping[str, str]) -> set[str]:
    """The top-level attribute names an expression touches (values `:x` and functions left out)."""
    if not expression:
        return set()
    found = set()
    for token in _NAME_IN_EXPRESSION.findall(re.sub(r":[A-Za-z0-9_]+", " ", expression)):
        if token in _EXPRESSION_WORDS:
            continue
        found.add(names.get(token, token) if token.startswith("#") else token)
    return found


def _dynamodb_item(operation: str, request: Mapping[str, Any], account: Account) -> Authorization:
    table = account.arn("dynamodb", f"table/{request['TableName']}")
    names = request.get("ExpressionAttributeNames") or {}
    # A parameter the request leaves out is no key of its context: IAM does not fill in the default.
    context: dict[str, str | list[str]] = {}
    if "ReturnValues" in request:
        context["dynamodb:ReturnValues"] = str(request["ReturnValues"])
    attributes = set(request.get("Key") or {}) | set(request.get("Item") or {})
    for expression in ("UpdateExpression", "ConditionExpression", "ProjectionExpression"):
        attributes |= _expression_names(request.get(expression), names)
    if (
        operation in ("UpdateItem", "PutItem", "DeleteItem", "ConditionCheckItem")
        or "ProjectionExpression" in request
    ):
        context["dynamodb:Attributes"] = sorted(attributes)
    else:
        context["dynamodb:Select"] = "ALL_ATTRIBUTES"
    return Authorization(f"dynamodb:{operation}", table, context)


_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _dynamodb(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        return [_dynamodb_item(operation, params, account)]
    if operation == "TransactWriteItems":
        return [
            _dynamodb_item(_TRANSACT_ACTIONS[kind], request, account)
            for item in params["TransactItems"]
            for kind, request in item.items()
        ]
    if operation == "TransactGetItems":
        return [_dynamodb_item("GetItem", item["Get"], account) for item in params["TransactItems"]]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [
            Authorization(f"dynamodb:{operation}", account.arn("dynamodb", f"table/{table}"))
            for table in params["RequestItems"]
        ]
    if "TableName" in params:
        resource = f"table/{params['TableName']}"
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [Authorization(f"dynamodb:{operation}", account.arn("dynamodb", resource))]
    return None


# ---- S3 ------------------------------------------------------------------------------------------

_S3_OBJECT_ACTIONS = {
    "PutObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "CopyObject": "PutObject",
    "GetObject": "GetObject",
    "HeadObject": "GetObject",
    "DeleteObject": "DeleteObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "ListParts": "ListMultipartUploadParts",
}
_S3_BUCKET_ACTIONS = {
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
}


def _s3(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    bucket = params.get("Bucket")
    if bucket is None:
        return None
    bucket_arn = account.arn("s3", str(bucket), regional=False, owned=False)
    if operation in _S3_OBJECT_ACTIONS:
        found = [Authorization(f"s3:{_S3_OBJECT_ACTIONS[operation]}", f"{bucket_arn}/{params['Key']}")]
        if operation == "CopyObject":
            # A copy reads its source with the caller's own s3:GetObject.
            source = params["CopySource"]
            if isinstance(source, str):
                source_bucket, _, source_key = source.lstrip("/").partition("/")
            else:
                source_bucket, source_key = source["Bucket"], source["Key"]
            source_arn = account.arn("s3", f"{source_bucket}/{source_key}", regional=False, owned=False)
            found.append(Authorization("s3:GetObject", source_arn))
        return found
    if operation == "DeleteObjects":
        return [
            Authorization("s3:DeleteObject", f"{bucket_arn}/{item['Key']}", part=item["Key"])
            for item in params["Delete"]["Objects"]
        ]
    return [Authorization(f"s3:{_S3_BUCKET_ACTIONS.get(operation, operation)}", bucket_arn)]


def listing_of_missing_objects(
    service: str, operation: str, params: Mapping[str, Any], account: Account
) -> Authorization | None:
    """What S3 asks of a GetObject's or HeadObject's caller before it says that the object is not there:
    `s3:ListBucket` on the bucket. Without it, a missing key is answered 403 AccessDenied, never 404
    (GetObject and HeadObject, "Permissions", Amazon S3 API Reference). S3 evaluates no condition key of
    a listing here (the call names no prefix), so none is given."""
    if service != "s3" or operation not in ("GetObject", "HeadObject") or "Bucket" not in params:
        return None
    return Authorization(
        "s3:ListBucket", account.arn("s3", str(params["Bucket"]), regional=False, owned=False)
    )


# ---- Bedrock -------------------------------------------------------------------------------------


def _bedrock(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    if operation == "StartAsyncInvoke":
        model = str(params["modelId"])
        if not model.startswith("arn:"):
            model = account.arn("bedrock", f"foundation-model/{model}", owned=False)
        # Bedrock writes the output with the caller's own permissions (a forward access session), under
        # a folder of the invocation's id in the location the call names.
        uri = str(params["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"])
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        output = account.arn(
            "s3", f"{bucket}/{prefix.strip('/')}/<invocation id>/output.mp4", regional=False, owned=False
        )
        return [Authorization("bedrock:InvokeModel", model), Authorization("s3:PutObject", output)]
    if operation == "GetAsyncInvoke":
        return [Authorization("bedrock:GetAsyncInvoke", str(params["invocationArn"]))]
    return None


# ---- SSM, Step Functions, EventBridge, Lambda, CloudWatch -----------------------------------------


def _parameter_arn(name: str, account: Account) -> str:
    return account.arn("ssm", "parameter" + (name if name.startswith("/") else f"/{name}"))


def _ssm(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    if operation == "GetParameter" or operation == "PutParameter":
        return [Authorization(f"ssm:{operation}", _parameter_arn(params["Name"], account))]
    if operation == "GetParameters":
        return [Authorization("ssm:GetParameters", _parameter_arn(name, account)) for name in params["Names"]]
    return None


def _states(operation: str, params: Mapping[str, Any], _account: Account) -> list[Authorization] | None:
    for parameter in ("stateMachineArn", "executionArn"):
        if parameter in params:
            return [Authorization(f"states:{operation}", str(params[parameter]))]
    return None


def _events(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    if operation != "PutEvents":
        return None
    buses = {entry.get("EventBusName") or "default" for entry in params["Entries"]}
    return [
        Authorization(
            "events:PutEvents", bus if bus.startswith("arn:") else account.arn("events", f"event-bus/{bus}")
        )
        for bus in sorted(buses)
    ]


def _lambda(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    if operation != "Invoke":
        return None
    name = str(params["FunctionName"])
    arn = name if name.startswith("arn:") else account.arn("lambda", f"function:{name}")
    return [Authorization("lambda:InvokeFunction", arn)]


def _cloudwatch(operation: str, params: Mapping[str, Any], _account: Account) -> list[Authorization] | None:
    if operation != "PutMetricData":
        return None
    return [Authorization("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": params["Namespace"]})]


def _sqs(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    """A call on one queue, authorized on its ARN: the queue named by the last part of its URL. A batch
    action has no permission of its own: SQS authorizes it as its single action (SendMessageBatch as
    SendMessage, DeleteMessageBatch as DeleteMessage, ChangeMessageVisibilityBatch likewise)."""
    url = params.get("QueueUrl")
    if url is None:
        return None
    action = operation.removesuffix("Batch") if operation in _SQS_BATCH_ACTIONS else operation
    return [Authorization(f"sqs:{action}", account.arn("sqs", str(url).rstrip("/").rsplit("/", 1)[-1]))]


_SQS_BATCH_ACTIONS = frozenset({"SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"})


# ---- KMS -----------------------------------------------------------------------------------------

_KMS_KEY_OPERATIONS = frozenset(
    {"Encrypt", "Decrypt", "GenerateDataKey", "ReEncrypt", "DescribeKey", "Sign", "Verify", "GetPublicKey"}
)
# Sign's and Verify's parameters that are condition keys of their own (kms:SigningAlgorithm, kms:MessageType).
_KMS_SIGNING_KEYS = {"SigningAlgorithm": "kms:SigningAlgorithm", "MessageType": "kms:MessageType"}


def _kms(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    """A call on one key, authorized on the key's ARN (an alias names the key it points to: the enforcer
    resolves an alias's ARN, as KMS does), with the encryption context's condition keys."""
    if operation not in _KMS_KEY_OPERATIONS or "KeyId" not in params:
        return None
    key_id = str(params["KeyId"])
    if key_id.startswith("alias/"):
        resource = account.arn("kms", key_id)
    elif key_id.startswith("arn:"):
        resource = key_id
    else:
        resource = account.arn("kms", f"key/{key_id}")
    encryption = params.get("EncryptionContext") or {}
    context: dict[str, str | list[str]] = {
        f"kms:EncryptionContext:{name}": str(value) for name, value in encryption.items()
    }
    if encryption:
        context["kms:EncryptionContextKeys"] = sorted(encryption)
    for parameter, condition_key in _KMS_SIGNING_KEYS.items():
        if parameter in params:
            context[condition_key] = str(params[parameter])
    return [Authorization(f"kms:{operation}", resource, context)]


# ---- AppConfig ------------------------------------------------------------------------------------


def _appconfig(operation: str, params: Mapping[str, Any], account: Account) -> list[Authorization] | None:
    """The data plane's calls, on the configuration's ARN. Its ids are the ones the call resolves to
    (`local.iam.appconfig_lookup`), which the enforcer puts in `params` under `ApplicationId`,
    `EnvironmentId` and `ConfigurationProfileId`; without them (a configuration that does not exist),
    the identifiers as the call wrote them."""
    if operation not in ("StartConfigurationSession", "GetLatestConfiguration"):
        return None
    ids = [
        params.get(resolved) or params.get(written)
        for resolved, written in (
            ("ApplicationId", "ApplicationIdentifier"),
            ("EnvironmentId", "EnvironmentIdentifier"),
            ("ConfigurationProfileId", "ConfigurationProfileIdentifier"),
        )
    ]
    if not all(ids):
        return None
    application, environment, profile = ids
    resource = f"application/{application}/environment/{environment}/configuration/{profile}"
    return [Authorization(f"appconfig:{operation}", account.arn("appconfig", resource))]


_MAPPERS = {
    "dynamodb": _dynamodb,
    "s3": _s3,
    "ssm": _ssm,
    "states": _states,
    "events": _events,
    "lambda": _lambda,
    "cloudwatch": _cloudwatch,
    "appconfig": _appconfig,
    "bedrock": _bedrock,
    "kms": _kms,
    "sqs": _sqs,
}


# ---- KMS, on SSM's behalf ------------------------------------------------------------------------

# The key SSM encrypts a SecureString with when none is named: its key policy lets every principal of
# the account decrypt through SSM, so a caller needs no grant of its own.
AWS_MANAGED_PARAMETER_KEY = "alias/aws/ssm"
# A parameter's name -> the ARN of the KMS key its caller must be granted to decrypt it (None: no such
# parameter, not a SecureString, or under the AWS managed key).
ParameterKey = Callable[[str], str | None]


def decryptions(
    service: str, operation: str, params: Mapping[str, Any], account: Account, parameter_key: ParameterKey
) -> list[Authorization]:
    """What KMS authorizes when SSM answers with a SecureString's value: SSM calls Decrypt with the
    caller's own credentials, on the parameter's key, through SSM, with the parameter's ARN as the
    encryption context ("How AWS Systems Manager Parameter Store uses AWS KMS")."""
    if service != "ssm" or not params.get("WithDecryption"):
        return []
    names = {"GetParameter": [params.get("Name")], "GetParameters": params.get("Names")}.get(operation) or []
    found = []
    for name in names:
        key = parameter_key(str(name))
        if key is None:
            continue
        context = {
            "kms:ViaService": f"ssm.{account.region}.amazonaws.com",
            "kms:CallerAccount": account.account_id,
            "kms:EncryptionContext:PARAMETER_ARN": _parameter_arn(str(name), account),
        }
        found.append(Authorization("kms:Decrypt", key, context))
    return found
