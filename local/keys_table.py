"""Finds the keys table: the one `serve` creates on a local endpoint, or a deployed stack's."""

from __future__ import annotations

from typing import Any

import boto3

from local.serve.application import STACK
from local.serve.aws_endpoint import client

LOCAL_ENDPOINT = "http://127.0.0.1:4566"


def keys_table(aws_endpoint: str | None, stack: str | None, region: str | None = None) -> tuple[Any, str]:
    """A DynamoDB client and the keys table's name: the deployed `stack`'s in `region` (or the AWS
    profile's region), or serve's on its local endpoint."""
    if stack is not None:
        cloudformation = boto3.client("cloudformation", region_name=region)
        outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
        table = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "KeysTableName")
        return boto3.client("dynamodb", region_name=region), table
    return client("dynamodb", aws_endpoint or LOCAL_ENDPOINT), f"{STACK}-KeysTable"
