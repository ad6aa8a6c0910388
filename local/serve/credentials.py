"""The local account's credentials. An access key names its caller (each function signs with its
logical id, the tests and the provisioning with the observer's key); every key's secret is this one,
with which the local endpoint checks a presigned URL as S3 checks it with its signer's own."""

SECRET_KEY = "local"  # noqa: S105 - the local endpoint's dummy credentials
