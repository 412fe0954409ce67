"""Reading a registry from YAML, with errors that point at the line at fault."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from models.errors import SmatiError
from models.registry import LocatedError, Registry


class RegistryFileError(SmatiError, ValueError):
    """Every problem of a registry file, one per line, each with its line number."""

    def __init__(self, source: str, problems: list[tuple[int | None, str]]) -> None:
        lines = [f"{source}:{line or '?'}: {message}" for line, message in problems]
        super().__init__("invalid registry\n" + "\n".join(lines))
        self.problems = problems


def parse_registry(text: str, source: str = "<registry>") -> Registry:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RegistryFileError(source, [(line, f"not valid YAML: {error}")]) from None
    if not isinstance(document, dict):
        raise RegistryFileError(source, [(1, "a registry is a mapping with tenants, devices...")])
    try:
        return Registry.model_validate(document)
    except ValidationError as error:
        problems = [_problem(root, detail) for detail in error.errors()]
        raise RegistryFileError(source, problems) from None


def _problem(root: yaml.Node | None, detail: Any) -> tuple[int | None, str]:
    cause = detail.get("ctx", {}).get("error")
    path = cause.path if isinstance(cause, LocatedError) else detail["loc"]
    where = ".".join(map(str, path)) or "registry"
    message = str(cause) if cause is not None else f"{where}: {detail['msg']}"
    return _line_of(root, path), message


def _line_of(node: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the deepest node of `path` found in the YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        child = _child(node, step)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(step):
                child: yaml.Node = value
                return child
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        item: yaml.Node = node.value[step]
        return item
    return None
