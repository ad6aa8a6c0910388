"""The application offline, minus its HTTP front: the local AWS endpoint with the template's resources,
every function in its worker pool, and the state machine's tasks answered by those workers. `serve`
puts the gateway and the engine in front of it; the workflow tests drive it directly."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError

from local.iam.enforce import Role, guard_client, revocations_from_environment
from local.keys import keep_key
from local.routes_store import RESOURCES, RoutesStore, deploy
from local.serve.application import (
    LOCAL_ACCOUNT,
    LocalApplication,
    LocalFunction,
    SqsSource,
    load_application,
)
from local.serve.aws_endpoint import LocalAws
from local.serve.aws_endpoint import client as aws_client
from local.serve.development_certificate import CREDENTIALS_DIR, install
from local.serve.lambda_endpoint import LambdaEndpoint
from local.serve.metrics import put_emf_metrics
from local.serve.sqs_sources import SqsPoller
from local.serve.workers import Functions, Invocation, lambda_environment
from local.template import application_template

ENGINE_KEY = "sk-local-engine"


class InvocationLog:
    """Each invocation's output into logs/<function>.log, closed by a REPORT line as Lambda's logs
    are (its duration, and its init when the worker was cold); its metrics into the local CloudWatch."""

    def __init__(self, directory: Path, cloudwatch: Any) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.cloudwatch = cloudwatch
        # Set when the stack stops, before the local AWS endpoint goes.
        self.stopping = threading.Event()

    def __call__(self, function: LocalFunction, invocation: Invocation) -> None:
        with (self.directory / f"{function.logical_id}.log").open("a") as log:
            log.write(invocation.output)
            if invocation.error is not None:
                log.write(f"ERROR {invocation.error}\n")
            init = "\tInit: cold" if invocation.cold else ""
            log.write(f"REPORT\tDuration: {invocation.seconds * 1000:.2f} ms{init}\n")
        try:
            put_emf_metrics(self.cloudwatch, invocation.output)
        except BotoCoreError:
            # An invocation ending while the stack stops keeps its log; its metrics have nowhere to go.
            if not self.stopping.is_set():
                raise


class LocalStack:
    def __init__(
        self,
        *,
        host: str,
        aws_port: int,
        upstream_url: str,
        webhook_secret: str,
        log_dir: Path,
        upstream_key: str = ENGINE_KEY,
        parameters: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
        state_dir: Path | None = None,
        allow_loopback_webhooks: bool = False,
        credentials_dir: Path | None = None,
    ) -> None:
        """`secrets`: SecureString parameters to store (the routes' own keys), by name. `state_dir`: where
        the resources' data is kept across starts, and found again (None: nothing is kept, as the
        tests' stacks want). `allow_loopback_webhooks`: tenants' webhook endpoints may be http URLs on this
        machine (`serve --allow-loopback-webhooks`), for receivers running beside the stack.
        `credentials_dir`: where the development CA that certifies the stack's signing key is kept
        (local.serve.development_certificate; beside the logs unless given)."""
        self.aws = LocalAws(host, aws_port, state_dir)
        self.credentials_dir = credentials_dir or log_dir.parent / CREDENTIALS_DIR
        self._closing = threading.Lock()
        self._closed = False
        # load_application refuses a parameter the template does not declare.
        self.application: LocalApplication = load_application(
            application_template(),
            {"UpstreamBaseUrl": upstream_url} | (parameters or {}),
            lambda_environment(self.aws.endpoint)
            | ({"ALLOW_LOOPBACK_WEBHOOKS": "true"} if allow_loopback_webhooks else {}),
        )
        self.functions = Functions(self.application.functions, [str(d) for d in self.application.layer_dirs])
        self.lambda_endpoint = LambdaEndpoint(host, self.invoke)
        try:
            # One state machine: its tasks' clients are shared, so they act as its role.
            (machine,) = self.application.state_machines.values()
            role = Role(machine.name, machine.policy, LOCAL_ACCOUNT, revocations_from_environment())
            self.aws.start(self.lambda_endpoint.url, role)
        except BaseException:
            self.lambda_endpoint.close()
            raise
        self.log = InvocationLog(log_dir, self.aws.client("cloudwatch"))
        try:
            self.aws.provision(self.application, upstream_key)
            ssm = self.aws.client("ssm")
            stored = {self.application.parameters["WebhookSecretParameter"]: webhook_secret} | (secrets or {})
            for name, value in stored.items():
                ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
            self._certify_signing_key()
        except BaseException:
            self.close()
            raise

    @property
    def signs_content_credentials(self) -> bool:
        return self.application.parameters.get("ContentCredentials") == "sign"

    def _certify_signing_key(self) -> None:
        """The template's signing key certified by the development CA (a key the operator names comes
        with its certificate chain)."""
        parameters = self.application.parameters
        if not self.signs_content_credentials or parameters.get("ContentCredentialsKeyArn"):
            return
        install(
            self.aws.client("kms"),
            self.aws.client("ssm"),
            self.application.kms_keys["ContentCredentialsKey"],
            parameters["ContentCredentialsCertificateParameter"],
            self.credentials_dir,
        )

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        function = self.application.function_named(name_or_arn)
        invocation = self.functions.invoke(function.name, event)
        self.log(function, invocation)
        return invocation

    def run_schedules(self, *, catch_up: bool = False) -> threading.Event:
        """Invokes each scheduled function at its rate, as EventBridge would, and each function an SQS
        queue feeds with its messages, as Lambda's event source mapping would, until the event is set.
        `catch_up`: once at once too, for the invocations the schedule would have made while the stack
        was stopped (the reconciler then ends the jobs whose executions stopped with it)."""
        stop = self.run_queue_sources()
        for function in self.application.functions.values():
            if function.schedule_seconds is not None:
                threading.Thread(
                    target=self._every,
                    args=(function, function.schedule_seconds, stop, catch_up),
                    name=f"schedule-{function.logical_id}",
                    daemon=True,
                ).start()
        return stop

    def run_queue_sources(self) -> threading.Event:
        """Polls each SQS event source mapping's queue for its function until the event is set."""
        stop = threading.Event()
        for source in self.application.sqs_sources:
            poller = self.queue_poller(source, self.invoke)
            threading.Thread(target=poller.run, args=(stop,), name=f"sqs-{source.queue}", daemon=True).start()
        return stop

    def queue_poller(self, source: SqsSource, invoke: Callable[[str, Any], Invocation]) -> SqsPoller:
        """Lambda's poller of `source`'s queue: it receives and deletes as the function's role, under its
        policy (the execution role must allow them, as AWS's event source mapping needs)."""
        function = self.application.function_named(source.function)
        role = Role(function.name, function.policy, LOCAL_ACCOUNT, revocations_from_environment())
        sqs = aws_client("sqs", self.aws.endpoint, access_key=function.logical_id)
        return SqsPoller(source, guard_client(sqs, role), invoke)

    def _every(self, function: LocalFunction, seconds: int, stop: threading.Event, now: bool) -> None:
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        if now:
            self.invoke(function.name, event)
        while not stop.wait(seconds):
            self.invoke(function.name, event)

    def deploy_routes(self, document: bytes, description: str) -> str:
        """Deploys a routes document to the local AppConfig, as `videos-api routes apply` does to a
        stack's: the functions take it within RoutesMaxAgeSeconds."""
        refs = self.application.refs
        store = RoutesStore(*(refs[resource] for resource in RESOURCES))
        return deploy(self.aws.client("appconfig"), store, document, description)

    def add_key(self, owner: str, key: str) -> None:
        """Stores `key` for `owner`, unless a kept state has it already (ValueError: another's, revoked)."""
        keep_key(self.aws.client("dynamodb"), self.application.tables["KeysTable"], owner, key)

    def close(self) -> None:
        """Stops everything; a second call (from another thread too) waits for the first to end."""
        with self._closing:
            if self._closed:
                return
            self._closed = True
            self.log.stopping.set()
            # The endpoint first, so the state machine starts no task on a worker being stopped.
            self.aws.stop()
            self.lambda_endpoint.close()
            self.functions.close()
