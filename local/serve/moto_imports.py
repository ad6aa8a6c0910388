"""moto's Step Functions parser imports `moto.batch` for one enum, and that package's `__init__` imports
its models, which import EC2's (its AMIs and its regions, read from botocore's JSON): a second of
every local AWS endpoint's start, for a service the endpoint never serves. The package is registered
without running its `__init__`, and its models are imported when something asks the package for them
(moto's backend registry does so by name), so Batch itself behaves as before."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

_PACKAGE = "moto.batch"


def defer_batch_models() -> None:
    if _PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None:
        return
    package = importlib.util.module_from_spec(spec)

    def models_attribute(name: str) -> Any:
        return getattr(importlib.import_module(f"{_PACKAGE}.models"), name)

    package.__getattr__ = models_attribute  # type: ignore[method-assign]
    sys.modules[_PACKAGE] = package
    parent, _, child = _PACKAGE.rpartition(".")
    setattr(importlib.import_module(parent), child, package)
