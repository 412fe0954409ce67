"""The registry's JavaScript codecs: where a codec's program comes from, its options, its
ports, and how its output maps to the device's channels.

A device's `model` names a native codec (`models.codecs.CODECS`) or one of these entries.
The output's numbers reach channels by a path through its objects and lists
(`line_1.total_in`, `temperatures.0.value`), with the unit each is in; with no `channels`
given, every number of the output is a channel named by its path, without a unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.codecs.base import ChannelValue, CodecError, WrongPort

OptionValue = str | int | float | bool
_ABOUT_PORT = re.compile(r"\bf?port\b", re.IGNORECASE)


class CodecChannel(BaseModel):
    """Where a channel's value is in the codec's output, and its unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, description="dotted keys and list positions")
    unit: str | None = None


class JsCodec(BaseModel):
    """A `decodeUplink` codec: a file (TTN Device Repository format), an installed npm
    package's codec through SMATI's adapter for it, or the program's text itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="the device model naming it")
    file: str | None = Field(default=None, description="relative to the registry file")
    package: str | None = Field(default=None, description="an npm package, e.g. @adeunis/codecs")
    program: str = Field(default="", description="the JavaScript, read from file or package")
    options: dict[str, OptionValue] = Field(
        default_factory=dict, description="given to the program as `codecOptions`"
    )
    f_ports: tuple[int, ...] | None = Field(
        default=None, description="data ports; other ports are wrong_port (None: any)"
    )
    channels: dict[str, CodecChannel] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.file is not None and self.package is not None:
            raise ValueError("a codec has a file or a package, not both")
        if self.file is None and self.package is None and not self.program:
            raise ValueError("a codec needs a file, a package or a program")
        return self


def channel_values(codec: JsCodec, output: dict[str, Any], ts: datetime) -> list[ChannelValue]:
    """The channel values of a `decodeUplink` output; its errors raise DecodeError
    as CodecError (WrongPort when they are about the port, as port-dispatching codecs word them)."""
    errors = output.get("errors") if isinstance(output, dict) else None
    if errors:
        text = "; ".join(map(str, errors)) if isinstance(errors, list) else str(errors)
        kind = WrongPort if _ABOUT_PORT.search(text) else CodecError
        raise kind(f"codec {codec.id!r}: {text}")
    data = output.get("data") if isinstance(output, dict) else None
    if not isinstance(data, dict):
        raise CodecError(f"codec {codec.id!r} returned no data object")
    if not codec.channels:
        return [ChannelValue(path, ts, value, None) for path, value in _numbers(data, "")]
    return [
        ChannelValue(name, ts, value, channel.unit)
        for name, channel in codec.channels.items()
        if (value := _number_at(data, channel.path)) is not None
    ]


def _number_at(data: Any, path: str) -> float | None:
    """The number at `path`, None where the output has none (a field the frame lacks)."""
    node = data
    for step in path.split("."):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return _as_number(node)


def _numbers(node: Any, prefix: str) -> Iterator[tuple[str, float]]:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        path = f"{prefix}{key}"
        if isinstance(value, dict | list):
            yield from _numbers(value, path + ".")
        elif (number := _as_number(value)) is not None:
            yield path, number


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
