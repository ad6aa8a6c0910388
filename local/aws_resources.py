"""Creates the template's tables in an AWS endpoint (moto offline), from the template's own properties."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local.template import resources_of_type

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_TABLE_PROPERTIES = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")


def create_tables(client: DynamoDBClient, template: dict[str, Any], prefix: str) -> dict[str, str]:
    """Creates every `AWS::DynamoDB::Table`, named `<prefix>-<LogicalId>`; returns logical id -> name."""
    names = {}
    for logical_id, resource in resources_of_type(template, "AWS::DynamoDB::Table").items():
        properties = resource["Properties"]
        name = f"{prefix}-{logical_id}"
        client.create_table(
            TableName=name, **{k: properties[k] for k in _TABLE_PROPERTIES if k in properties}
        )
        ttl = properties.get("TimeToLiveSpecification")
        if ttl is not None:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        names[logical_id] = name
    return names
