"""The local AWS endpoint: moto in server mode in a process of its own, with the template's resources
created in it and Step Functions executing for real. Its Lambda tasks come back to this process's
function workers through the Lambda endpoint (moto cannot run Python Lambdas without Docker).

moto keeps every service in one interpreter; in its own process it has a core to itself instead of
sharing one with the gateway, the engine and the workers' pipes."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from local.aws_resources import create_tables
from local.iam.enforce import Role, guard_client
from local.process_names import AWS_ENDPOINT, name_this_process
from local.serve.appconfig_provision import create_appconfig
from local.serve.application import ACCOUNT, REGION, STACK, LocalApplication
from local.serve.aws_calls import AwsCallCount, WsgiApp
from local.serve.aws_faults import OBSERVER_KEY, AwsFaultBook, AwsFaultMiddleware, fault_lambda_invokes
from local.serve.aws_state import UnreadableStateError
from local.serve.credentials import SECRET_KEY

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# "off" serves every request as moto's own server does: a connection per request, moto's per-request
# work done afresh (the tests pass either way; bench/aws_endpoint.py compares the two).
FAST_PATH_SWITCH = "LOCAL_AWS_FAST_PATH"
# Longer than any function's timeout: the function workers end every invocation themselves.
LAMBDA_READ_TIMEOUT_SECONDS = 960


def client(service: str, endpoint: str, config: Config | None = None, access_key: str = "local") -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=SECRET_KEY,
        config=config,
    )


def _endpoint_main(
    host: str, port: int, lambda_url: str, role: Role, state_dir: Path | None, parent: Connection
) -> None:
    """The endpoint's process: moto's server until the parent closes its end of the pipe (or dies).
    The state machine's tasks call AWS (and the functions) as `role`, its execution role. Faults armed
    at `/_faults` apply to every call it serves and to the state machine's Lambda invocations; a presigned
    URL is checked as S3 checks it. With a `state_dir`, what its resources hold is kept there
    (local.serve.state_keeper)."""
    from local.serve.moto_imports import defer_unserved_models

    defer_unserved_models()  # before moto's packages are imported
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from werkzeug.serving import make_server

    from local.serve.appconfig import AppConfig
    from local.serve.appconfig_api import AppConfigApi
    from local.serve.aws_state import AwsState
    from local.serve.keep_alive import KeepAliveRequestHandler
    from local.serve.kms_keys import DeclaredKeys
    from local.serve.moto_fidelity import make_dynamodb_atomic, make_kms_sign_digests
    from local.serve.moto_speedups import speed_up_moto
    from local.serve.presigned_urls import PresignedUrlChecks
    from local.serve.state_keeper import StateKeeper

    name_this_process(AWS_ENDPOINT)
    fast_path = os.environ.get(FAST_PATH_SWITCH, "on") != "off"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # serve stops it on a Ctrl-C, through the pipe
    # moto's state machine calls its task services back at localhost:$MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    speed_up_moto(lambda made: guard_client(made, role), per_request=fast_path)
    make_dynamodb_atomic()
    make_kms_sign_digests()
    functions = client(
        "lambda",
        lambda_url,
        Config(
            retries={"total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=LAMBDA_READ_TIMEOUT_SECONDS,
            max_pool_connections=64,
        ),
    )
    guard_client(functions, role)
    faults = AwsFaultBook()
    fault_lambda_invokes(functions, faults)
    lambda_eval_utils.boto_client_for = lambda *_, **__: functions  # type: ignore[attr-defined]
    calls = AwsCallCount()
    store = AppConfig(_validator(lambda_url))
    served: WsgiApp = PresignedUrlChecks(AppConfigApi(DomainDispatcherApplication(create_backend_app), store))
    keeper = None if state_dir is None else StateKeeper(served, AwsState(state_dir), store)
    app = DeclaredKeys(
        calls.serving(AwsFaultMiddleware(keeper or served, faults, calls.count)), ACCOUNT, REGION
    )
    handler = KeepAliveRequestHandler if fast_path else MotoRequestHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    threading.Thread(target=server.serve_forever, name="aws-endpoint", daemon=True).start()
    with contextlib.suppress(EOFError, OSError):
        parent.recv()
    if keeper is not None:
        keeper.stop()
    os._exit(0)


def _validator(lambda_url: str) -> Callable[[str, dict[str, Any]], str | None]:
    """How AppConfig runs a LAMBDA validator: as the service, which the function's resource policy lets
    in (not as the state machine's role), through the functions' Lambda endpoint."""
    functions = client("lambda", lambda_url, Config(retries={"total_max_attempts": 1}, read_timeout=60))

    def invoke(function_arn: str, event: dict[str, Any]) -> str | None:
        answer = functions.invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        payload = answer["Payload"].read()
        if "FunctionError" not in answer:
            return None
        error = json.loads(payload or b"{}")
        return str(error.get("errorMessage") or "The validator failed.")

    return invoke


class LocalAws:
    def __init__(self, host: str, port: int, state_dir: Path | None = None) -> None:
        """`state_dir`: where what the resources hold is kept across starts (None: nothing is kept)."""
        self.host, self.port = host, port
        self.state_dir = state_dir
        self.endpoint = f"http://{host}:{port}"
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None
        # For the calls to its own routes: one client, not one (and its TLS context) per call.
        self._http = httpx.Client(base_url=self.endpoint)
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        # Whether provisioning found data kept by an earlier start.
        self.restored = False

    def start(self, lambda_url: str, task_role: Role) -> None:
        """Starts the endpoint, the state machine's tasks calling AWS (and `lambda_url` for Lambda) as
        `task_role`; returns once it answers."""
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(
            target=_endpoint_main,
            args=(self.host, self.port, lambda_url, task_role, self.state_dir, child),
            name="aws-endpoint",
            daemon=True,
        )
        self._process.start()
        child.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                self._http.post("/moto-api/config", json=MOTO_CONFIG, timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or not self._process.is_alive():
                    self.stop()
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self._http.close()
        if self._pipe is not None:
            self._pipe.close()
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()

    def client(self, service: str) -> Any:
        """A client as the tests and the provisioning use it: its calls are never faulted. One per
        service, kept (a client is safe to share between threads; making one costs ~20 ms of CPU)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = client(service, self.endpoint, access_key=OBSERVER_KEY)
            return self._clients[service]

    def arm_fault(self, **rule: object) -> str:
        """Arms an AWS-side fault (see local.serve.aws_faults); its id."""
        return str(self._http.post("/_faults", json=rule).raise_for_status().json()["id"])

    def faults(self) -> list[dict[str, Any]]:
        return list(self._http.get("/_faults").raise_for_status().json()["faults"])

    def calls(self) -> dict[str, dict[str, int]]:
        """The API calls served since the last `forget_calls`: caller -> `service:Operation` -> count."""
        return dict(self._http.get("/_calls").raise_for_status().json()["calls"])

    def forget_calls(self) -> None:
        self._http.delete("/_calls").raise_for_status()

    def provision(self, application: LocalApplication, upstream_key: str) -> None:
        """Creates what the template declares: tables, buckets, event buses, queues, rules, state
        machines, KMS keys and aliases, AppConfig's resources, and the upstream key's SSM parameter that
        an operator creates before deploying."""
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
        sqs = self.client("sqs")
        for queue in application.queues:
            sqs.create_queue(QueueName=queue.name, Attributes=queue.attributes)
        for rule in application.rules:
            events.put_rule(Name=rule.name, EventBusName=rule.bus, EventPattern=rule.pattern)
            targets = [{"Id": target_id, "Arn": arn} for target_id, arn in rule.targets]
            events.put_targets(Rule=rule.name, EventBusName=rule.bus, Targets=targets)
        for logical_id, key_id in application.kms_keys.items():
            properties = application.template["Resources"][logical_id]["Properties"]
            # The template's KeySpec and KeyUsage (KMS's defaults: a symmetric encryption key).
            spec = {
                "spec": properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
                "usage": properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
            }
            self._http.put(f"/_kms/keys/{key_id}", params=spec).raise_for_status()
        kms = self.client("kms")
        for alias, key_id in application.kms_aliases.items():
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        create_appconfig(self.client("appconfig"), application.appconfig, STACK)
        if "UpstreamApiKeyParameter" in application.parameters:
            self.client("ssm").put_parameter(
                Name=application.parameters["UpstreamApiKeyParameter"],
                Value=upstream_key,
                Type="SecureString",
            )
        if self.state_dir is not None:
            self.restored = self._restore()

    def _restore(self) -> bool:
        """Puts what was kept into the resources just made; whether there was anything."""
        answer = self._http.post("/_state", timeout=600)
        if answer.status_code != 200:
            raise UnreadableStateError(answer.json()["message"])
        return bool(answer.json()["restored"])
