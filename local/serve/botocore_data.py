"""botocore's data files — the list of services, their models and endpoint rules — read once per
process tree rather than once per session.

Each botocore session makes a loader of its own, and a loader's first client lists botocore's data
directory (a stat of each of its ~400 services) and parses the models again: about 0.1 s of CPU per
session, paid by every cold function worker, by every role's IAM enforcer and by every test that makes
a client. Imported by the function workers' fork server (and by any process that makes many
sessions), this makes `create_loader` hand out one loader per search path, warmed with the services
the stack calls, so a forked worker starts with them read. The data is the same files either way; only
the reading is shared."""

from __future__ import annotations

import functools

import boto3
from botocore import loaders, session
from botocore.exceptions import BotoCoreError

# The services the functions, the state machine's tasks and the enforcer call.
SERVICES = (
    "dynamodb",
    "s3",
    "ssm",
    "events",
    "stepfunctions",
    "appconfigdata",
    "kms",
    "lambda",
    "bedrock-runtime",
    "sts",
)


def share_loaders() -> None:
    if getattr(loaders.create_loader, "shared", False):
        return
    by_path = functools.cache(loaders.create_loader)

    def shared(search_path_string: str | None = None) -> loaders.Loader:
        return by_path(search_path_string)

    shared.shared = True  # type: ignore[attr-defined]
    # botocore.session imported the name; functions' modules import it from botocore.loaders later.
    loaders.create_loader = session.create_loader = shared


def warm(services: tuple[str, ...] = SERVICES) -> None:
    """Reads what making a client of each service reads (no call is made). A configuration a session
    cannot read (a profile named but missing) leaves the loader to be warmed by the first real client."""
    try:
        for service in services:
            # Credentials of its own: no search of the environment, the files or the instance metadata.
            boto3.session.Session().client(
                service,  # type: ignore[call-overload]
                region_name="us-east-1",
                aws_access_key_id="warm",
                aws_secret_access_key="warm",  # noqa: S106 - signs nothing: no call is made
            )
    except BotoCoreError:
        return


share_loaders()
warm()
