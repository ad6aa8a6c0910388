"""`videos-api serve`: the template run against the local AWS endpoint, the engine and the gateway."""

from local.serve.moto_imports import defer_batch_models

defer_batch_models()
