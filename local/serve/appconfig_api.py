"""AppConfig's REST APIs on the local endpoint, in front of moto: the control plane (`appconfig`) and
the data plane (`appconfigdata`), answered from `local.serve.appconfig`'s store.

Both clients sign as `appconfig` (the data plane's signing name is the control plane's), so a request
is AppConfig's by its signature and which plane it is for by its path: `/configurationsessions` and
`/configuration` are the data plane's, everything else the control plane's.

`GET /_appconfig/configuration` is the local IAM enforcer's: the ids of the configuration a data-plane
call reads (`?application=&environment=&profile=` by id or name, or `?token=`), 404 when there is
none, as AWS resolves them itself before it authorizes the call."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from local.iam.appconfig_lookup import LOOKUP_PATH
from local.serve.appconfig import AppConfig, AppConfigError

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, dict[str, str], bytes]
_SIGNED_FOR_APPCONFIG = re.compile(r"Credential=[^/,\s]+/[^/]+/[^/]+/appconfig/aws4_request")
_A = r"/applications/(?P<application>[^/]+)"
_P = _A + r"/configurationprofiles/(?P<profile>[^/]+)"
_E = _A + r"/environments/(?P<environment>[^/]+)"
# (method, path, operation); the handler of each is the AppConfigApi method named like the operation.
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(path + "$"), operation)
    for method, path, operation in (
        ("POST", "/applications", "CreateApplication"),
        ("GET", "/applications", "ListApplications"),
        ("GET", _A, "GetApplication"),
        ("DELETE", _A, "DeleteApplication"),
        ("POST", _A + "/configurationprofiles", "CreateConfigurationProfile"),
        ("GET", _A + "/configurationprofiles", "ListConfigurationProfiles"),
        ("GET", _P, "GetConfigurationProfile"),
        ("PATCH", _P, "UpdateConfigurationProfile"),
        ("DELETE", _P, "DeleteConfigurationProfile"),
        ("POST", _P + "/hostedconfigurationversions", "CreateHostedConfigurationVersion"),
        ("GET", _P + "/hostedconfigurationversions", "ListHostedConfigurationVersions"),
        ("GET", _P + r"/hostedconfigurationversions/(?P<number>\d+)", "GetHostedConfigurationVersion"),
        ("DELETE", _P + r"/hostedconfigurationversions/(?P<number>\d+)", "DeleteHostedConfigurationVersion"),
        ("POST", _A + "/environments", "CreateEnvironment"),
        ("GET", _A + "/environments", "ListEnvironments"),
        ("GET", _E, "GetEnvironment"),
        ("DELETE", _E, "DeleteEnvironment"),
        ("POST", "/deploymentstrategies", "CreateDeploymentStrategy"),
        ("GET", "/deploymentstrategies", "ListDeploymentStrategies"),
        ("GET", r"/deploymentstrategies/(?P<strategy>[^/]+)", "GetDeploymentStrategy"),
        # The path as AWS's API model spells it.
        ("DELETE", r"/deployementstrategies/(?P<strategy>[^/]+)", "DeleteDeploymentStrategy"),
        ("POST", _E + "/deployments", "StartDeployment"),
        ("GET", _E + "/deployments", "ListDeployments"),
        ("GET", _E + r"/deployments/(?P<number>\d+)", "GetDeployment"),
        ("DELETE", _E + r"/deployments/(?P<number>\d+)", "StopDeployment"),
        ("POST", "/configurationsessions", "StartConfigurationSession"),
        ("GET", "/configuration", "GetLatestConfiguration"),
    )
]


def operation_of(method: str, path: str) -> str | None:
    """The AppConfig operation a request makes, if it is one of those served here."""
    for route_method, pattern, operation in ROUTES:
        if route_method == method and pattern.match(path):
            return operation
    return None


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
    start = int(query.get("next_token") or 0)
    size = int(query.get("max_results") or 50)
    page: dict[str, Any] = {"Items": items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return _json(200, page)


class AppConfigApi:
    """The WSGI layer answering AppConfig's requests from `store`, and handing every other to `app`."""

    def __init__(self, app: WsgiApp, store: AppConfig | None = None) -> None:
        self.app = app
        self.store = store or AppConfig()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
        if path == LOOKUP_PATH:
            answer = self._lookup(environ)
        elif _SIGNED_FOR_APPCONFIG.search(environ.get("HTTP_AUTHORIZATION", "")):
            for route_method, pattern, operation in ROUTES:
                found = pattern.match(path)
                if route_method == method and found:
                    answer = self._serve(operation, found.groupdict(), environ)
                    break
            else:
                return self.app(environ, start_response)
        else:
            return self.app(environ, start_response)
        status, headers, body = answer
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} AppConfig", list(headers.items()))
        return [body]

    def _serve(self, operation: str, path: dict[str, str], environ: dict[str, Any]) -> Answer:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        # By lower-case name: HTTP's header names are case-insensitive.
        headers = {
            name[5:].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            handler: Callable[..., Answer] = getattr(self, "_" + _snake(operation))
            return handler(path, query, headers, raw)
        except AppConfigError as e:
            return _json(e.status, {"Message": e.message, **e.fields}, {"x-amzn-ErrorType": e.code})
        except (KeyError, ValueError, TypeError) as e:
            return _json(
                400, {"Message": f"Invalid request: {e}"}, {"x-amzn-ErrorType": "BadRequestException"}
            )

    def _lookup(self, environ: dict[str, Any]) -> Answer:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if "token" in query:
                ids = self.store.session_of(query["token"])
            else:
                ids = self.store.resolve(query["application"], query["environment"], query["profile"])
        except (AppConfigError, KeyError):
            ids = None
        if ids is None:
            return _json(404, {"Message": "no such configuration"})
        return _json(200, asdict(ids))

    # ---- applications, profiles, hosted versions -------------------------------------------------

    def _create_application(
        self, _p: dict[str, str], _q: dict[str, str], _h: dict[str, str], raw: bytes
    ) -> Answer:
        return _json(201, self.store.create_application(json.loads(raw)))

    def _list_applications(
        self, _p: dict[str, str], q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        return _page([a.describe() for a in list(self.store.applications.values())], q)

    def _get_application(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        return _json(200, self.store.application(p["application"]).describe())

    def _delete_application(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        self.store.delete_application(p["application"])
        return 204, {}, b""

    def _create_configuration_profile(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], raw: bytes
    ) -> Answer:
        return _json(201, self.store.create_profile(p["application"], json.loads(raw)))

    def _list_configuration_profiles(
        self, p: dict[str, str], q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        profiles = list(self.store.application(p["application"]).profiles.values())
        return _page([f.summary() for f in profiles if q.get("type") in (None, f.type)], q)

    def _get_configuration_profile(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        return _json(200, self.store.profile(p["application"], p["profile"]).describe())

    def _update_configuration_profile(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], raw: bytes
    ) -> Answer:
        return _json(200, self.store.update_profile(p["application"], p["profile"], json.loads(raw)))

    def _delete_configuration_profile(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        self.store.delete_profile(p["application"], p["profile"])
        return 204, {}, b""

    def _create_hosted_configuration_version(
        self, p: dict[str, str], _q: dict[str, str], h: dict[str, str], raw: bytes
    ) -> Answer:
        made = self.store.create_version(p["application"], p["profile"], raw, h)
        return self._version_answer(201, made.summary(), made.content)

    def _version_answer(self, status: int, summary: dict[str, Any], content: bytes) -> Answer:
        names = {
            "ApplicationId": "Application-Id",
            "ConfigurationProfileId": "Configuration-Profile-Id",
            "VersionNumber": "Version-Number",
            "Description": "Description",
            "ContentType": "Content-Type",
            "VersionLabel": "VersionLabel",
        }
        return status, {names[k]: str(v) for k, v in summary.items()}, content

    def _list_hosted_configuration_versions(
        self, p: dict[str, str], q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        versions = sorted(
            self.store.profile(p["application"], p["profile"]).versions.values(), key=lambda v: -v.number
        )
        label = q.get("version_label")
        return _page([v.summary() for v in versions if label in (None, v.label)], q)

    def _get_hosted_configuration_version(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        found = self.store.version(p["application"], p["profile"], int(p["number"]))
        return self._version_answer(200, found.summary(), found.content)

    def _delete_hosted_configuration_version(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        self.store.delete_version(p["application"], p["profile"], int(p["number"]))
        return 204, {}, b""

    # ---- environments, strategies, deployments ---------------------------------------------------

    def _create_environment(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], raw: bytes
    ) -> Answer:
        return _json(201, self.store.create_environment(p["application"], json.loads(raw)))

    def _list_environments(
        self, p: dict[str, str], q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        now = _now()
        environments = list(self.store.application(p["application"]).environments.values())
        return _page([e.describe(now) for e in environments], q)

    def _get_environment(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        return _json(200, self.store.environment(p["application"], p["environment"]).describe(_now()))

    def _delete_environment(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        self.store.delete_environment(p["application"], p["environment"])
        return 204, {}, b""

    def _create_deployment_strategy(
        self, _p: dict[str, str], _q: dict[str, str], _h: dict[str, str], raw: bytes
    ) -> Answer:
        return _json(201, self.store.create_strategy(json.loads(raw)))

    def _list_deployment_strategies(
        self, _p: dict[str, str], q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        return _page([s.describe() for s in list(self.store.strategies.values())], q)

    def _get_deployment_strategy(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        return _json(200, self.store.strategy(p["strategy"]).describe())

    def _delete_deployment_strategy(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        self.store.delete_strategy(p["strategy"])
        return 204, {}, b""

    def _start_deployment(
        self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], raw: bytes
    ) -> Answer:
        return _json(201, self.store.start_deployment(p["application"], p["environment"], json.loads(raw)))

    def _list_deployments(
        self, p: dict[str, str], q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        now = _now()
        deployments = self.store.environment(p["application"], p["environment"]).deployments
        return _page([d.summary(now) for d in reversed(deployments)], q)

    def _get_deployment(self, p: dict[str, str], _q: dict[str, str], _h: dict[str, str], _r: bytes) -> Answer:
        found = self.store.deployment(p["application"], p["environment"], int(p["number"]))
        return _json(200, found.describe(_now()))

    def _stop_deployment(self, p: dict[str, str], _q: dict[str, str], h: dict[str, str], _r: bytes) -> Answer:
        allow_revert = h.get("allow-revert", "false").lower() == "true"
        stopped = self.store.stop_deployment(
            p["application"], p["environment"], int(p["number"]), allow_revert
        )
        return _json(202, stopped)

    # ---- data plane ------------------------------------------------------------------------------

    def _start_configuration_session(
        self, _p: dict[str, str], _q: dict[str, str], _h: dict[str, str], raw: bytes
    ) -> Answer:
        return _json(201, {"InitialConfigurationToken": self.store.start_session(json.loads(raw))})

    def _get_latest_configuration(
        self, _p: dict[str, str], q: dict[str, str], _h: dict[str, str], _r: bytes
    ) -> Answer:
        answer = self.store.latest(q["configuration_token"])
        headers = {
            "Content-Type": answer.content_type,
            "Next-Poll-Configuration-Token": answer.next_token,
            "Next-Poll-Interval-In-Seconds": str(answer.next_interval),
        }
        if answer.version_label is not None:
            headers["Version-Label"] = answer.version_label
        return 200, headers, answer.content


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _now() -> float:
    return time.time()
