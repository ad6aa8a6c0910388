"""Resolves CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Split`,
`Fn::If` and the conditions it names) against local values. `Ref: AWS::NoValue` removes the list
item or property it stands for, as CloudFormation does."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvedError(KeyError):
    pass


_NO_VALUE = object()


class Resolver:
    """`refs` answers `Ref` (parameters, pseudo parameters, resources); `attributes` answers `GetAtt`."""

    def __init__(
        self,
        refs: Mapping[str, str],
        attributes: Mapping[tuple[str, str], str],
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self.refs = refs
        self.attributes = attributes
        self.conditions = conditions or {}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise UnresolvedError(f"no condition {name}")
        return self._holds(self.conditions[name])

    def _holds(self, expression: Any) -> bool:
        (function, arguments), *_ = expression.items()
        if function == "Condition":
            return self.condition(arguments)
        if function == "Fn::Equals":
            left, right = (str(self.resolve(argument)) for argument in arguments)
            return left == right
        if function == "Fn::Not":
            return not self._holds(arguments[0])
        if function == "Fn::And":
            return all(self._holds(argument) for argument in arguments)
        if function == "Fn::Or":
            return any(self._holds(argument) for argument in arguments)
        raise UnresolvedError(f"no local meaning for condition function {function}")

    def ref(self, name: str) -> str:
        if name not in self.refs:
            raise UnresolvedError(f"no local value for Ref {name}")
        return self.refs[name]

    def get_att(self, resource: str, attribute: str) -> str:
        if (resource, attribute) not in self.attributes:
            raise UnresolvedError(f"no local value for GetAtt {resource}.{attribute}")
        return self.attributes[(resource, attribute)]

    def _sub_name(self, name: str, variables: Mapping[str, str]) -> str:
        if name in variables:
            return variables[name]
        if "." in name:
            resource, attribute = name.split(".", 1)
            return self.get_att(resource, attribute)
        return self.ref(name)

    def resolve(self, value: Any) -> Any:
        resolved = self._resolve(value)
        if resolved is _NO_VALUE:
            raise UnresolvedError("AWS::NoValue stands for no value where one is needed")
        return resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self._resolve, value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if value == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        if len(value) == 1:
            ((function, arguments),) = value.items()
            intrinsic = self._intrinsics.get(function)
            if intrinsic is not None:
                return intrinsic(arguments)
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    @property
    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self.ref,
            "Fn::GetAtt": lambda arguments: self.get_att(*arguments),
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Join": lambda arguments: arguments[0].join(str(item) for item in self.resolve(arguments[1])),
            "Fn::Split": lambda arguments: str(self.resolve(arguments[1])).split(arguments[0]),
        }

    def _sub(self, arguments: Any) -> str:
        template, variables = arguments, {}
        if isinstance(template, list):
            template, variables = template[0], {k: str(self.resolve(v)) for k, v in template[1].items()}
        return _SUB.sub(lambda m: str(self._sub_name(m.group(1), variables)), template)

    def _if(self, arguments: Any) -> Any:
        name, when_true, when_false = arguments
        return self._resolve(when_true if self.condition(name) else when_false)
