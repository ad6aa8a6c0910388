import os

from local.iam import enforce

# Lambda's environment exists before a function's module is imported; so it does here, for the
# Powertools singletons the layer creates at import time.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "VideosApiTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "videos-api")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

# Every client the tests make can then be judged by a role: the in-process tests act as a function's.
enforce.install()
