"""AWS AppConfig as the local endpoint keeps it: applications, configuration profiles with their hosted
versions and validators, environments, deployment strategies, deployments, and the data plane's
configuration sessions. moto has only part of the control plane and none of the rest, so all of
AppConfig lives here, in one store, and moto's AppConfig is not used.

Time offline. A deployment's state follows the clock from its start as on AWS: DEPLOYING for the
strategy's DeploymentDurationInMinutes, BAKING for its FinalBakeTimeInMinutes, then COMPLETE; while it
is DEPLOYING or BAKING its environment is DEPLOYING and refuses another deployment (ConflictException).
The version it deploys is served to every session from the moment it starts, whatever its duration:
the offline stack has no fleet to roll a percentage of, and a test or a developer deploying a change
wants to see it. StopDeployment rolls a deployment in progress back (ROLLED_BACK) and serves the
version before it again; with AllowRevert, a COMPLETE one is REVERTED.

Validation. A profile's JSON_SCHEMA validators (draft-04, as AWS documents) judge a hosted version when
it is created and again when it is deployed; a refused document is a BadRequestException with
`Reason: InvalidConfiguration` and one `Details.InvalidConfiguration` entry per violation. A LAMBDA
validator's function is invoked at the same two moments with AWS's event (`applicationId`,
`configurationProfileId`, `configurationVersion`, `content` in base64, `uri`); the document is refused
when the function fails (Lambda's `X-Amz-Function-Error`), with its error message as the reason."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.serve.appconfig_ids import id_from_tags

IN_PROGRESS = ("DEPLOYING", "BAKING")
SERVING = ("DEPLOYING", "BAKING", "COMPLETE")
MIN_POLL_SECONDS, MAX_POLL_SECONDS = 15, 86_400
# What GetLatestConfiguration tells a session that asked for no interval of its own.
DEFAULT_POLL_SECONDS = 60
TOKEN_LIFETIME_SECONDS = 24 * 3600
# Invokes a LAMBDA validator's function (by ARN) with an event: its error message, None when it passed.
Invoke = Callable[[str, dict[str, Any]], str | None]


class AppConfigError(Exception):
    def __init__(self, code: str, status: int, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.fields = code, status, message, fields


def _bad_request(message: str, **fields: Any) -> AppConfigError:
    return AppConfigError("BadRequestException", 400, message, **fields)


def _not_found(message: str, **fields: Any) -> AppConfigError:
    return AppConfigError("ResourceNotFoundException", 404, message, **fields)


def _conflict(message: str) -> AppConfigError:
    return AppConfigError("ConflictException", 409, message)


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id(taken: dict[str, Any], tags: dict[str, str] | None) -> str:
    wanted = id_from_tags(tags)
    if wanted is not None:
        if wanted in taken:
            raise _conflict(f"A resource with id {wanted} already exists")
        return wanted
    while True:
        made = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(7))
        if made not in taken:
            return made


def _checked_validators(validators: list[dict[str, str]] | None) -> list[dict[str, str]]:
    import jsonschema

    for validator in validators or []:
        if validator.get("Type") == "JSON_SCHEMA":
            try:
                jsonschema.Draft4Validator.check_schema(json.loads(validator["Content"]))
            except (ValueError, jsonschema.SchemaError) as e:
                raise _bad_request(f"Invalid JSON schema validator: {e}") from e
    return list(validators or [])


@dataclass
class Version:
    application_id: str
    profile_id: str
    number: int
    content: bytes
    content_type: str
    description: str | None
    label: str | None

    def summary(self) -> dict[str, Any]:
        found = {
            "ApplicationId": self.application_id,
            "ConfigurationProfileId": self.profile_id,
            "VersionNumber": self.number,
            "ContentType": self.content_type,
            "Description": self.description,
            "VersionLabel": self.label,
        }
        return {k: v for k, v in found.items() if v is not None}


@dataclass
class Profile:
    application_id: str
    id: str
    name: str
    description: str | None
    location_uri: str
    type: str
    validators: list[dict[str, str]]
    versions: dict[int, Version] = field(default_factory=dict)
    last_version: int = 0

    def describe(self) -> dict[str, Any]:
        found = {
            "ApplicationId": self.application_id,
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "LocationUri": self.location_uri,
            "Validators": self.validators,
            "Type": self.type,
        }
        return {k: v for k, v in found.items() if v is not None}

    def summary(self) -> dict[str, Any]:
        return {
            "ApplicationId": self.application_id,
            "Id": self.id,
            "Name": self.name,
            "LocationUri": self.location_uri,
            "ValidatorTypes": [v["Type"] for v in self.validators],
            "Type": self.type,
        }

    def validate(self, content: bytes, version: int, invoke: Invoke | None) -> None:
        """Refuses `content` (to be version `version`) as AWS does when a validator rejects it."""
        self._validate_schemas(content)
        for validator in self.validators:
            if validator["Type"] != "LAMBDA" or invoke is None:
                continue
            event = {
                "applicationId": self.application_id,
                "configurationProfileId": self.id,
                "configurationVersion": str(version),
                "content": base64.b64encode(content).decode(),
                "uri": self.location_uri,
            }
            failure = invoke(validator["Content"], event)
            if failure is not None:
                detail = {"Constraint": "lambda", "Location": "#", "Reason": failure, "Type": "LAMBDA"}
                raise _bad_request(
                    "Configuration failed validation",
                    Reason="InvalidConfiguration",
                    Details={"InvalidConfiguration": [detail]},
                )

    def _validate_schemas(self, content: bytes) -> None:
        schemas = [json.loads(v["Content"]) for v in self.validators if v["Type"] == "JSON_SCHEMA"]
        if not schemas:
            return
        import jsonschema  # only where a profile has a schema: the endpoint's parent never needs it

        try:
            document = json.loads(content)
        except ValueError as e:
            details = [{"Constraint": "type", "Location": "#", "Reason": f"The document is not JSON: {e}"}]
            raise _bad_request(
                "Configuration failed validation",
                Reason="InvalidConfiguration",
                Details={"InvalidConfiguration": details},
            ) from e
        violations = [
            {
                "Constraint": str(error.validator),
                "Location": "#" + "".join(f"/{part}" for part in error.absolute_path),
                "Reason": error.message,
                "Type": "JSON_SCHEMA",
            }
            for schema in schemas
            for error in jsonschema.Draft4Validator(schema).iter_errors(document)
        ]
        if violations:
            raise _bad_request(
                "Configuration failed validation",
                Reason="InvalidConfiguration",
                Details={"InvalidConfiguration": violations},
            )


@dataclass(frozen=True)
class Strategy:
    id: str
    name: str
    description: str | None
    duration_minutes: int
    growth_type: str
    growth_factor: float
    bake_minutes: int
    replicate_to: str

    def describe(self) -> dict[str, Any]:
        found = {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "DeploymentDurationInMinutes": self.duration_minutes,
            "GrowthType": self.growth_type,
            "GrowthFactor": self.growth_factor,
            "FinalBakeTimeInMinutes": self.bake_minutes,
            "ReplicateTo": self.replicate_to,
        }
        return {k: v for k, v in found.items() if v is not None}


# AWS's predefined strategies, by the id AWS gives them (their name); see the user guide's "Using
# predefined deployment strategies".
PREDEFINED = {
    s.id: s
    for s in (
        Strategy(
            "AppConfig.Linear20PercentEvery6Minutes",
            "AppConfig.Linear20PercentEvery6Minutes",
            "AWS recommended",
            30,
            "LINEAR",
            20.0,
            30,
            "NONE",
        ),
        Strategy(
            "AppConfig.Canary10Percent20Minutes",
            "AppConfig.Canary10Percent20Minutes",
            "AWS recommended",
            20,
            "EXPONENTIAL",
            10.0,
            10,
            "NONE",
        ),
        Strategy("AppConfig.AllAtOnce", "AppConfig.AllAtOnce", "Quick", 0, "LINEAR", 100.0, 10, "NONE"),
        Strategy(
            "AppConfig.Linear50PercentEvery30Seconds",
            "AppConfig.Linear50PercentEvery30Seconds",
            "Testing/Demonstration",
            1,
            "LINEAR",
            50.0,
            1,
            "NONE",
        ),
    )
}


@dataclass
class Deployment:
    number: int
    application_id: str
    environment_id: str
    strategy: Strategy
    profile: Profile
    version: Version
    description: str | None
    started_at: float
    # Set once it no longer follows the clock: ROLLED_BACK or REVERTED, and when.
    ended: tuple[str, float] | None = None

    def state(self, now: float) -> str:
        if self.ended is not None:
            return self.ended[0]
        elapsed = now - self.started_at
        if elapsed < self.strategy.duration_minutes * 60:
            return "DEPLOYING"
        if elapsed < (self.strategy.duration_minutes + self.strategy.bake_minutes) * 60:
            return "BAKING"
        return "COMPLETE"

    def _percentage(self, now: float) -> float:
        if self.state(now) != "DEPLOYING":
            return 100.0
        return max(1.0, round(100 * (now - self.started_at) / (self.strategy.duration_minutes * 60), 1))

    def _completed_at(self, now: float) -> float | None:
        if self.ended is not None:
            return self.ended[1]
        if self.state(now) != "COMPLETE":
            return None
        return self.started_at + (self.strategy.duration_minutes + self.strategy.bake_minutes) * 60

    def _events(self, now: float) -> list[dict[str, Any]]:
        events = [(self.started_at, "DEPLOYMENT_STARTED", "USER", "Deployment started")]
        end_of_rollout = self.started_at + self.strategy.duration_minutes * 60
        if (self.ended is None or self.ended[1] >= end_of_rollout) and now >= end_of_rollout:
            events.append((end_of_rollout, "BAKE_TIME_STARTED", "APPCONFIG", "Bake time started"))
        completed = self._completed_at(now)
        if self.ended is not None:
            kind = "ROLLBACK_COMPLETED" if self.ended[0] == "ROLLED_BACK" else "REVERT_COMPLETED"
            events.append((self.ended[1], kind, "USER", f"Deployment {self.ended[0].lower()}"))
        elif completed is not None:
            events.append((completed, "DEPLOYMENT_COMPLETED", "APPCONFIG", "Deployment completed"))
        return [
            {"EventType": kind, "TriggeredBy": by, "Description": text, "OccurredAt": iso(at)}
            for at, kind, by, text in reversed(events)
        ]

    def summary(self, now: float) -> dict[str, Any]:
        found: dict[str, Any] = {
            "DeploymentNumber": self.number,
            "ConfigurationName": self.profile.name,
            "ConfigurationVersion": str(self.version.number),
            "DeploymentDurationInMinutes": self.strategy.duration_minutes,
            "GrowthType": self.strategy.growth_type,
            "GrowthFactor": self.strategy.growth_factor,
            "FinalBakeTimeInMinutes": self.strategy.bake_minutes,
            "State": self.state(now),
            "PercentageComplete": self._percentage(now),
            "StartedAt": iso(self.started_at),
        }
        completed = self._completed_at(now)
        if completed is not None:
            found["CompletedAt"] = iso(completed)
        if self.version.label is not None:
            found["VersionLabel"] = self.version.label
        return found

    def describe(self, now: float) -> dict[str, Any]:
        found = self.summary(now) | {
            "ApplicationId": self.application_id,
            "EnvironmentId": self.environment_id,
            "DeploymentStrategyId": self.strategy.id,
            "ConfigurationProfileId": self.profile.id,
            "ConfigurationLocationUri": self.profile.location_uri,
            "EventLog": self._events(now),
            "AppliedExtensions": [],
        }
        if self.description is not None:
            found["Description"] = self.description
        return found


@dataclass
class Environment:
    application_id: str
    id: str
    name: str
    description: str | None
    monitors: list[dict[str, str]]
    deployments: list[Deployment] = field(default_factory=list)

    def in_progress(self, now: float) -> Deployment | None:
        return next((d for d in self.deployments if d.state(now) in IN_PROGRESS), None)

    def state(self, now: float) -> str:
        if self.in_progress(now) is not None:
            return "DEPLOYING"
        if self.deployments and self.deployments[-1].ended is not None:
            return self.deployments[-1].ended[0]
        return "READY_FOR_DEPLOYMENT"

    def served(self, profile_id: str, now: float) -> Deployment | None:
        """The deployment whose version this environment serves for a profile: the latest not undone."""
        for deployment in reversed(self.deployments):
            if deployment.profile.id == profile_id and deployment.state(now) in SERVING:
                return deployment
        return None

    def describe(self, now: float) -> dict[str, Any]:
        found = {
            "ApplicationId": self.application_id,
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "State": self.state(now),
            "Monitors": self.monitors,
        }
        return {k: v for k, v in found.items() if v is not None}


@dataclass
class Application:
    id: str
    name: str
    description: str | None
    profiles: dict[str, Profile] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        found = {"Id": self.id, "Name": self.name, "Description": self.description}
        return {k: v for k, v in found.items() if v is not None}


@dataclass
class Session:
    application_id: str
    environment_id: str
    profile_id: str
    required_interval: int | None
    # The hosted version this session was last given, and when it last polled.
    given: int | None = None
    polled_at: float | None = None


@dataclass(frozen=True)
class Configuration:
    """What GetLatestConfiguration answers: content empty when the session already has it."""

    content: bytes
    content_type: str
    version_label: str | None
    next_token: str
    next_interval: int


@dataclass(frozen=True)
class ConfigurationIds:
    application_id: str
    environment_id: str
    profile_id: str


class AppConfig:
    """The store, shared by the endpoint's request threads."""

    def __init__(self, invoke: Invoke | None = None) -> None:
        """`invoke`: how LAMBDA validators are run (None: they are kept, not run)."""
        self._invoke = invoke
        self._lock = threading.Lock()
        self.applications: dict[str, Application] = {}
        self.strategies: dict[str, Strategy] = dict(PREDEFINED)
        self._sessions: dict[str, Session] = {}
        # token -> (session id, issued at); a token is taken out when it is used.
        self._tokens: dict[str, tuple[str, float]] = {}

    # ---- control plane ---------------------------------------------------------------------------

    def application(self, application_id: str) -> Application:
        found = self.applications.get(application_id)
        if found is None:
            raise _not_found(f"Application {application_id} not found", ResourceName=application_id)
        return found

    def create_application(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            made = Application(
                _new_id(self.applications, body.get("Tags")), body["Name"], body.get("Description")
            )
            self.applications[made.id] = made
            return made.describe()

    def delete_application(self, application_id: str) -> None:
        with self._lock:
            self.application(application_id)
            del self.applications[application_id]

    def profile(self, application_id: str, profile_id: str) -> Profile:
        found = self.application(application_id).profiles.get(profile_id)
        if found is None:
            raise _not_found(f"Configuration profile {profile_id} not found", ResourceName=profile_id)
        return found

    def create_profile(self, application_id: str, body: dict[str, Any]) -> dict[str, Any]:
        validators = _checked_validators(body.get("Validators"))
        with self._lock:
            application = self.application(application_id)
            made = Profile(
                application_id,
                _new_id(application.profiles, body.get("Tags")),
                body["Name"],
                body.get("Description"),
                body["LocationUri"],
                body.get("Type") or "AWS.Freeform",
                validators,
            )
            application.profiles[made.id] = made
            return made.describe()

    def update_profile(self, application_id: str, profile_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Its versions stay as they are: the new validators judge them when they are deployed."""
        validators = _checked_validators(body["Validators"]) if "Validators" in body else None
        with self._lock:
            profile = self.profile(application_id, profile_id)
            profile.name = body.get("Name", profile.name)
            profile.description = body.get("Description", profile.description)
            if validators is not None:
                profile.validators = validators
            return profile.describe()

    def delete_profile(self, application_id: str, profile_id: str) -> None:
        with self._lock:
            self.profile(application_id, profile_id)
            del self.applications[application_id].profiles[profile_id]

    def create_version(
        self, application_id: str, profile_id: str, content: bytes, headers: dict[str, str]
    ) -> Version:
        """`headers` by lower-case name."""
        with self._lock:
            profile = self.profile(application_id, profile_id)
            latest = headers.get("latest-version-number")
            if latest is not None and int(latest) != profile.last_version:
                raise _conflict(
                    f"Latest version number {latest} does not match the latest version {profile.last_version}"
                )
            profile.validate(content, profile.last_version + 1, self._invoke)
            profile.last_version += 1
            made = Version(
                application_id,
                profile_id,
                profile.last_version,
                content,
                headers.get("content-type") or "application/octet-stream",
                headers.get("description"),
                headers.get("versionlabel"),
            )
            profile.versions[made.number] = made
            return made

    def version(self, application_id: str, profile_id: str, number: int) -> Version:
        found = self.profile(application_id, profile_id).versions.get(number)
        if found is None:
            raise _not_found(f"Hosted configuration version {number} not found", ResourceName=str(number))
        return found

    def delete_version(self, application_id: str, profile_id: str, number: int) -> None:
        with self._lock:
            self.version(application_id, profile_id, number)
            del self.profile(application_id, profile_id).versions[number]

    def environment(self, application_id: str, environment_id: str) -> Environment:
        found = self.application(application_id).environments.get(environment_id)
        if found is None:
            raise _not_found(f"Environment {environment_id} not found", ResourceName=environment_id)
        return found

    def create_environment(self, application_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            application = self.application(application_id)
            made = Environment(
                application_id,
                _new_id(application.environments, body.get("Tags")),
                body["Name"],
                body.get("Description"),
                list(body.get("Monitors") or []),
            )
            application.environments[made.id] = made
            return made.describe(time.time())

    def delete_environment(self, application_id: str, environment_id: str) -> None:
        with self._lock:
            environment = self.environment(application_id, environment_id)
            if environment.in_progress(time.time()) is not None:
                raise _conflict(f"Environment {environment_id} has a deployment in progress")
            del self.applications[application_id].environments[environment_id]

    def strategy(self, strategy_id: str) -> Strategy:
        found = self.strategies.get(strategy_id)
        if found is None:
            raise _not_found(f"Deployment strategy {strategy_id} not found", ResourceName=strategy_id)
        return found

    def create_strategy(self, body: dict[str, Any]) -> dict[str, Any]:
        duration, bake = int(body["DeploymentDurationInMinutes"]), int(body.get("FinalBakeTimeInMinutes", 0))
        growth = float(body["GrowthFactor"])
        if not (0 <= duration <= 1440 and 0 <= bake <= 1440 and 1.0 <= growth <= 100.0):
            raise _bad_request(
                "DeploymentDurationInMinutes and FinalBakeTimeInMinutes are 0 to 1440, GrowthFactor 1 to 100"
            )
        with self._lock:
            made = Strategy(
                _new_id(self.strategies, body.get("Tags")),
                body["Name"],
                body.get("Description"),
                duration,
                body.get("GrowthType") or "LINEAR",
                growth,
                bake,
                body.get("ReplicateTo") or "NONE",
            )
            self.strategies[made.id] = made
            return made.describe()

    def delete_strategy(self, strategy_id: str) -> None:
        with self._lock:
            if strategy_id in PREDEFINED:
                raise _bad_request(f"A predefined deployment strategy cannot be deleted: {strategy_id}")
            self.strategy(strategy_id)
            del self.strategies[strategy_id]

    def start_deployment(
        self, application_id: str, environment_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            environment = self.environment(application_id, environment_id)
            strategy = self.strategy(body["DeploymentStrategyId"])
            profile = self.profile(application_id, body["ConfigurationProfileId"])
            if not str(body["ConfigurationVersion"]).isdigit():
                raise _bad_request(
                    f"Configuration version {body['ConfigurationVersion']} is not a hosted version"
                )
            version = self.version(application_id, profile.id, int(body["ConfigurationVersion"]))
            running = environment.in_progress(now)
            if running is not None:
                raise _conflict(
                    f"Deployment number {running.number} is in progress on environment {environment_id}"
                )
            latest = body.get("LatestDeploymentNumber")
            if latest is not None and int(latest) != len(environment.deployments):
                raise _conflict(f"Deployment number {int(latest) + 1} already exists")
            profile.validate(version.content, version.number, self._invoke)
            made = Deployment(
                len(environment.deployments) + 1,
                application_id,
                environment_id,
                strategy,
                profile,
                version,
                body.get("Description"),
                now,
            )
            environment.deployments.append(made)
            return made.describe(now)

    def deployment(self, application_id: str, environment_id: str, number: int) -> Deployment:
        deployments = self.environment(application_id, environment_id).deployments
        if not 1 <= number <= len(deployments):
            raise _not_found(f"Deployment {number} not found", ResourceName=str(number))
        return deployments[number - 1]

    def stop_deployment(
        self, application_id: str, environment_id: str, number: int, allow_revert: bool
    ) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            deployment = self.deployment(application_id, environment_id, number)
            state = deployment.state(now)
            if state in IN_PROGRESS:
                deployment.ended = ("ROLLED_BACK", now)
            elif state == "COMPLETE" and allow_revert:
                deployment.ended = ("REVERTED", now)
            else:
                raise _bad_request(f"Deployment {number} is {state} and cannot be stopped")
            return deployment.describe(now)

    # ---- data plane ------------------------------------------------------------------------------

    def _find(self, kind: str, items: dict[str, Any], identifier: str, parameter: str) -> Any:
        if identifier in items:
            return items[identifier]
        named = [item for item in items.values() if item.name == identifier]
        if not named:
            raise AppConfigError(
                "ResourceNotFoundException",
                404,
                f"{kind} {identifier} not found",
                ResourceType=kind,
                ReferencedBy={parameter: identifier},
            )
        return named[0]

    def resolve(self, application: str, environment: str, profile: str) -> ConfigurationIds:
        """The ids of a configuration named by id or name, as StartConfigurationSession takes them."""
        found = self._find("Application", self.applications, application, "ApplicationIdentifier")
        return ConfigurationIds(
            found.id,
            self._find("Environment", found.environments, environment, "EnvironmentIdentifier").id,
            self._find("ConfigurationProfile", found.profiles, profile, "ConfigurationProfileIdentifier").id,
        )

    def start_session(self, body: dict[str, Any]) -> str:
        interval = body.get("RequiredMinimumPollIntervalInSeconds")
        if interval is not None and not MIN_POLL_SECONDS <= int(interval) <= MAX_POLL_SECONDS:
            raise _bad_request(
                f"RequiredMinimumPollIntervalInSeconds must be {MIN_POLL_SECONDS} to {MAX_POLL_SECONDS}",
                Reason="InvalidParameters",
                Details={
                    "InvalidParameters": {"RequiredMinimumPollIntervalInSeconds": {"Problem": "Corrupted"}}
                },
            )
        with self._lock:
            ids = self.resolve(
                body["ApplicationIdentifier"],
                body["EnvironmentIdentifier"],
                body["ConfigurationProfileIdentifier"],
            )
            session_id = secrets.token_hex(8)
            self._sessions[session_id] = Session(
                ids.application_id,
                ids.environment_id,
                ids.profile_id,
                None if interval is None else int(interval),
            )
            return self._issue(session_id, time.time())

    def _issue(self, session_id: str, now: float) -> str:
        token = secrets.token_urlsafe(48)
        self._tokens[token] = (session_id, now)
        return token

    def _token_problem(self, problem: str) -> AppConfigError:
        return _bad_request(
            f"The configuration token is {problem.lower()}"
            if problem != "PollIntervalNotSatisfied"
            else "The poll interval the session requires has not passed",
            Reason="InvalidParameters",
            Details={"InvalidParameters": {"ConfigurationToken": {"Problem": problem}}},
        )

    def session_of(self, token: str) -> ConfigurationIds | None:
        """The configuration an outstanding token's session reads (for judging the call in IAM)."""
        with self._lock:
            issued = self._tokens.get(token)
            if issued is None:
                return None
            session = self._sessions[issued[0]]
            return ConfigurationIds(session.application_id, session.environment_id, session.profile_id)

    def latest(self, token: str) -> Configuration:
        now = time.time()
        with self._lock:
            issued = self._tokens.get(token)
            if issued is None:
                # Never issued, or used already: AWS cannot tell a reused token from a made-up one either.
                raise self._token_problem("Corrupted")
            session_id, issued_at = issued
            if now - issued_at > TOKEN_LIFETIME_SECONDS:
                del self._tokens[token]
                raise self._token_problem("Expired")
            session = self._sessions[session_id]
            if (
                session.required_interval is not None
                and session.polled_at is not None
                and now - session.polled_at < session.required_interval
            ):
                raise self._token_problem("PollIntervalNotSatisfied")
            application = self.applications.get(session.application_id)
            environment = application.environments.get(session.environment_id) if application else None
            if environment is None or session.profile_id not in application.profiles:  # type: ignore[union-attr]
                raise _not_found("The session's configuration no longer exists", ResourceType="Configuration")
            served = environment.served(session.profile_id, now)
            if served is None:
                # The token stays good: the caller polls again once something is deployed.
                raise AppConfigError(
                    "ResourceNotFoundException",
                    404,
                    "No configuration is deployed to this environment for this profile",
                    ResourceType="Deployment",
                )
            del self._tokens[token]
            session.polled_at = now
            fresh = session.given != served.version.number
            session.given = served.version.number
            return Configuration(
                served.version.content if fresh else b"",
                served.version.content_type,
                served.version.label if fresh else None,
                self._issue(session_id, now),
                session.required_interval or DEFAULT_POLL_SECONDS,
            )
