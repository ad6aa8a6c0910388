"""CloudWatch's side of EMF: metric lines a function prints become metric data in the local
CloudWatch, as the Lambda service does with them on AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def emf_blobs(output: str) -> list[dict[str, Any]]:
    blobs = []
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        try:
            blob = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(blob, dict) and isinstance(blob.get("_aws"), dict):
            blobs.append(blob)
    return blobs


def metric_data(blob: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, datum) for every metric and dimension set of one EMF blob."""
    meta = blob["_aws"]
    timestamp = datetime.fromtimestamp(meta.get("Timestamp", 0) / 1000, UTC)
    data = []
    for directive in meta.get("CloudWatchMetrics", []):
        for metric in directive.get("Metrics", []):
            raw = blob.get(metric["Name"])
            values = raw if isinstance(raw, list) else [raw]
            for dimension_set in directive.get("Dimensions", [[]]):
                datum = {
                    "MetricName": metric["Name"],
                    "Dimensions": [{"Name": name, "Value": str(blob[name])} for name in dimension_set],
                    "Values": [float(v) for v in values if v is not None],
                    "Unit": metric.get("Unit", "None"),
                    "Timestamp": timestamp,
                }
                data.append((directive["Namespace"], datum))
    return data


# CloudWatch's limit of metric data in one PutMetricData request.
DATA_PER_REQUEST = 1000


def put_emf_metrics(cloudwatch: Any, output: str) -> int:
    """Puts every metric of one invocation's output, one request per namespace (and per 1,000 data);
    the number of data put."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for blob in emf_blobs(output):
        for namespace, datum in metric_data(blob):
            by_namespace.setdefault(namespace, []).append(datum)
    for namespace, data in by_namespace.items():
        for start in range(0, len(data), DATA_PER_REQUEST):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + DATA_PER_REQUEST])
    return sum(len(data) for data in by_namespace.values())
