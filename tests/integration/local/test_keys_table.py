"""`videos-api keys … --stack NAME --region R` finds the deployed stack's keys table in that region."""

from __future__ import annotations

import json

import boto3
import pytest

from local.keys import create_key, list_keys
from local.keys_table import keys_table

TEMPLATE = {
    "Resources": {
        "KeysTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "key_hash", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "key_hash", "KeyType": "HASH"}],
            },
        }
    },
    "Outputs": {"KeysTableName": {"Value": {"Ref": "KeysTable"}}},
}


@pytest.fixture
def deployed(moto_account: None) -> None:
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(
        StackName="videos", TemplateBody=json.dumps(TEMPLATE)
    )


def test_the_stacks_region_is_the_one_given_not_the_profiles(deployed: None) -> None:
    dynamodb, table = keys_table(None, "videos", "eu-west-1")
    create_key(dynamodb, table, "alice")

    assert dynamodb.meta.region_name == "eu-west-1"
    assert [info.owner for info in list_keys(dynamodb, table)] == ["alice"]
    with pytest.raises(Exception, match="does not exist"):
        keys_table(None, "videos", None)  # the profile's us-east-1 has no such stack
