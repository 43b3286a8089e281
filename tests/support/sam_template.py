"""template.yaml as `sam local` reads it: the function's environment, resolved like SAM CLI.

SAM CLI (1.170) merges Globals into the function (samtranslator's GlobalsPlugin,
used here too), then resolves intrinsics with its own resolver, which supports
Ref, Fn::Sub, Fn::Join, Fn::If and the condition functions, but fails on an ``Fn::If``
that has ``AWS::NoValue`` in a branch (it resolves both branches and NoValue to
nothing). A variable it cannot resolve reaches the function as ``""``. This
module does the same without aws-sam-cli, so unit tests can load the settings
the function would get under ``sam local invoke`` and ``sam local start-api``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml
from samtranslator.parser.parser import Parser
from samtranslator.plugins.globals.globals_plugin import GlobalsPlugin
from samtranslator.translator.translator import Translator

from tests.support.events import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"

#: What SAM CLI substitutes for the pseudo parameters when running locally.
PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "local",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/local/"
    "51af3dc0-da77-11e4-872e-1234567db123",
    "AWS::URLSuffix": "amazonaws.com",
}


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub ...) as their long form."""


def _intrinsic(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template() -> dict[str, Any]:
    with TEMPLATE.open(encoding="utf-8") as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=CfnLoader)  # noqa: S506 - SafeLoader
    return template


class NoManagedPolicies:
    """The template names no managed policy, so the loader is never consulted."""

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """template.yaml as CloudFormation gets it after the SAM transform (aws-sam-translator).

    SAM resolves some properties with the parameter values (DeploymentPreference's
    Type among them); conditions and the other intrinsics stay for CloudFormation.
    """
    sam = load_template()
    # What `sam package` does before CloudFormation sees the template.
    sam["Resources"]["PredictFunction"]["Properties"]["CodeUri"] = "s3://artifacts/predict.zip"
    translator = Translator(NoManagedPolicies(), Parser())  # type: ignore[arg-type]
    values = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", **(parameters or {})}
    return translator.translate(sam, parameter_values=values)  # type: ignore[no-any-return]


class Unresolved(Exception):
    """SAM CLI would leave this value as it is (and pass "" to the function)."""


class Resolver:
    """The subset of CloudFormation intrinsics SAM CLI resolves locally, with its limits."""

    def __init__(self, template: dict[str, Any], parameter_overrides: dict[str, str]) -> None:
        parameters = template.get("Parameters", {})
        unknown = set(parameter_overrides) - set(parameters)
        if unknown:
            raise ValueError(f"template.yaml has no parameter(s) {sorted(unknown)}")
        self.values: dict[str, Any] = {
            **PSEUDO_PARAMETERS,
            **{name: spec.get("Default") for name, spec in parameters.items()},
            **parameter_overrides,
        }
        self.conditions: dict[str, Any] = template.get("Conditions", {})

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Condition":
                return self._condition(argument)
            if key.startswith("Fn::"):
                handler = getattr(self, "_" + key[4:].lower(), None)
                if handler is None:
                    raise Unresolved(f"{key} is not resolved by sam local")
                return handler(argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            raise Unresolved("AWS::NoValue")
        if name not in self.values or self.values[name] is None:
            raise Unresolved(f"Ref {name}")
        return self.values[name]

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise Unresolved(f"no condition {name}")
        result = self.resolve(self.conditions[name])
        if not isinstance(result, bool):
            raise Unresolved(f"condition {name} is not a boolean")
        return result

    def _if(self, arguments: list[Any]) -> Any:
        name, if_true, if_false = arguments
        # Like SAM CLI: both branches are resolved, whichever the condition picks.
        resolved_true, resolved_false = self.resolve(if_true), self.resolve(if_false)
        return resolved_true if self._condition(name) else resolved_false

    def _equals(self, arguments: list[Any]) -> bool:
        first, second = self.resolve(arguments)
        return bool(first == second)

    def _not(self, arguments: list[Any]) -> bool:
        (value,) = self.resolve(arguments)
        return not value

    def _and(self, arguments: list[Any]) -> bool:
        return all(self.resolve(arguments))

    def _or(self, arguments: list[Any]) -> bool:
        return any(self.resolve(arguments))

    def _join(self, arguments: list[Any]) -> str:
        delimiter, values = arguments
        return str(delimiter).join(str(value) for value in self.resolve(values))

    def _sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        names = {**self.values, **self.resolve(variables)}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name not in names or names[name] is None:
                raise Unresolved(f"${{{name}}} in Fn::Sub")
            return str(names[name])

        return re.sub(r"\$\{([^}]*)\}", substitute, text)


def stringify(value: Any) -> str:
    """What SAM CLI passes for a resolved value: lists, maps and None become ""."""
    if isinstance(value, dict | list | tuple) or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def function_environment(
    parameter_overrides: dict[str, str] | None = None,
    env_vars: dict[str, dict[str, str]] | None = None,
    function: str = "PredictFunction",
) -> tuple[dict[str, str], list[str]]:
    """The template's variables as `sam local` gives them to ``function``.

    ``env_vars`` is an ``--env-vars`` file's content: ``{"Parameters": {...}}``
    for every function, ``{function: {...}}`` for one; like SAM CLI it changes
    only the variables the template declares. Returns the variables and the
    names of those SAM CLI could not resolve (and passes as "").
    """
    template = copy.deepcopy(load_template())
    GlobalsPlugin().on_before_transform_template(template)
    declared: dict[str, Any] = template["Resources"][function]["Properties"]["Environment"][
        "Variables"
    ]
    resolver = Resolver(template, parameter_overrides or {})
    overrides = {**(env_vars or {}).get("Parameters", {}), **(env_vars or {}).get(function, {})}
    environment: dict[str, str] = {}
    unresolved: list[str] = []
    for name, value in declared.items():
        try:
            environment[name] = stringify(resolver.resolve(value))
        except Unresolved:
            environment[name] = ""
            unresolved.append(name)
        if name in overrides:
            environment[name] = stringify(overrides[name])
    return environment, unresolved
