"""The local AWS endpoint: moto in server mode inside this process, with the template's resources
created in it, Step Functions executing for real, and its Lambda tasks answered by the function
workers (moto cannot run Python Lambdas without Docker)."""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import httpx
from moto import backends as moto_backends
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_dynamodb,
    state_task_service_events,
)

from local.aws_resources import create_tables
from local.serve.application import REGION, STACK, LocalApplication
from local.serve.workers import Invocation

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

LambdaDispatcher = Callable[[str, Any], Invocation]


def client(service: str, endpoint: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the local endpoint's dummy credentials
    )


def _speed_up_moto() -> None:
    """Two of moto's per-call costs, paid once instead (this process's time is every AWS call's)."""
    if getattr(DomainDispatcherApplication, "_sped_up", False):
        return
    _remember_backends()
    _reuse_task_clients()
    DomainDispatcherApplication._sped_up = True  # type: ignore[attr-defined]


def _remember_backends() -> None:
    """moto's server finds each request's backend under one lock, listing its package directory and
    trying every service's URL patterns each time: the same answer for the same host."""
    modules = frozenset(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules
    find = DomainDispatcherApplication.get_backend_for_host

    @functools.wraps(find)
    def remembered(self: DomainDispatcherApplication, host: str | None) -> Any:
        found = self.__dict__.setdefault("_backends_by_host", {})
        if host not in found:
            found[host] = find(self, host)
        return found[host]

    DomainDispatcherApplication.get_backend_for_host = remembered  # type: ignore[method-assign]


def _reuse_task_clients() -> None:
    """The state machine's tasks (Lambda, EventBridge, DynamoDB) make a new boto3 client for every
    call, ~40 ms of this process's time each; one client per service and region serves them all."""
    made: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()
    for module in (lambda_eval_utils, state_task_service_events, state_task_service_dynamodb):
        make = module.boto_client_for

        def reused(region: str, service: str, state_credentials: Any = None, _make: Any = make) -> Any:
            if state_credentials is not None:
                return _make(region, service, state_credentials)
            with lock:
                if (region, service) not in made:
                    made[(region, service)] = _make(region, service)
                return made[(region, service)]

        module.boto_client_for = reused  # type: ignore[attr-defined]


class LocalAws:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.endpoint = f"http://{host}:{port}"
        self._server: ThreadedMotoServer | None = None

    def start(self) -> None:
        # moto's state machine calls its task services back at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        _speed_up_moto()
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.post(f"{self.endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def client(self, service: str) -> Any:
        return client(service, self.endpoint)

    def provision(self, application: LocalApplication, upstream_key: str) -> None:
        """Creates what the template declares: tables, buckets, event buses, state machines, and the
        upstream key's SSM parameter that an operator creates before deploying."""
        create_tables(self.client("dynamodb"), application.template, STACK)
        s3 = self.client("s3")
        for bucket in application.buckets.values():
            s3.create_bucket(Bucket=bucket)
        events = self.client("events")
        for bus in application.event_buses.values():
            events.create_event_bus(Name=bus)
        sfn = self.client("stepfunctions")
        for machine in application.state_machines.values():
            sfn.create_state_machine(
                name=machine.name, definition=machine.definition, roleArn=machine.role_arn
            )
        self.client("ssm").put_parameter(
            Name=application.parameters["UpstreamApiKeyParameter"], Value=upstream_key, Type="SecureString"
        )

    @staticmethod
    def answer_lambda_with(dispatch: LambdaDispatcher) -> None:
        """Routes moto's Lambda invocations (the state machine's tasks) to the function workers."""

        def invoke(
            _backend: LambdaSimpleBackend,
            function_name: str,
            _qualifier: str | None,
            body: Any,
            _headers: Any,
            response_headers: dict[str, str],
        ) -> bytes:
            event = json.loads(body) if body else {}
            invocation = dispatch(function_name, event)
            if invocation.error is not None:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(invocation.error).encode()
            return json.dumps(invocation.result).encode()

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]
