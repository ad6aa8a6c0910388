"""Two of moto's packages cost every local AWS endpoint a second at its start, for services it never
serves. `moto.ec2`'s `__init__` imports its models (its AMIs and its regions, read from botocore's
JSON); SSM's models import `ec2_backends` from it, for parameters of the `aws:ec2:image` type, and
moto's Step Functions parser imports `moto.batch`, whose `__init__` imports Batch's models and, with
them, EC2's. Each package is registered without running its `__init__`; its backends are a stand-in
that imports the models when first used, and any other name imports them at once, so both services
behave as before."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from typing import Any

# Each package deferred, with the one name its `__init__` takes from its models.
_DEFERRED = {"moto.batch": "batch_backends", "moto.ec2": "ec2_backends"}


class _DeferredBackends:
    """A package's backends, imported from its models on first use."""

    def __init__(self, models: str, name: str) -> None:
        self._models, self._name = models, name

    def _backends(self) -> Any:
        return getattr(importlib.import_module(self._models), self._name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backends(), name)

    def __getitem__(self, key: str) -> Any:
        return self._backends()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._backends()

    def __iter__(self) -> Iterator[str]:
        return iter(self._backends())

    def __len__(self) -> int:
        return len(self._backends())


def defer_unserved_models() -> None:
    for package_name, backends in _DEFERRED.items():
        if package_name in sys.modules:
            continue
        spec = importlib.util.find_spec(package_name)
        if spec is None:
            continue
        package = importlib.util.module_from_spec(spec)
        models = f"{package_name}.models"
        setattr(package, backends, _DeferredBackends(models, backends))

        def from_models(name: str, _models: str = models) -> Any:
            return getattr(importlib.import_module(_models), name)

        package.__getattr__ = from_models  # type: ignore[method-assign]
        sys.modules[package_name] = package
        parent, _, child = package_name.rpartition(".")
        setattr(importlib.import_module(parent), child, package)
