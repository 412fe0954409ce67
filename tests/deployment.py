"""What the deployment files (docker/, k8s/) must agree on with the code: the `smati`
commands they run and the SMATI_* variables they set."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from click.testing import CliRunner

from models.settings import Settings
from smati.cli import main

_VARIABLE = re.compile(r"\bSMATI_[A-Z0-9_]+\b")


def smati_variables(text: str) -> set[str]:
    """Every SMATI_* name written in `text`."""
    return set(_VARIABLE.findall(text))


def unknown_variables(names: Iterable[str]) -> set[str]:
    """The SMATI_* names no field of Settings reads."""
    known = {f"SMATI_{name.upper()}" for name in Settings.model_fields}
    return set(names) - known


def help_fails(args: Sequence[str]) -> str | None:
    """None if `smati <the subcommand of args> --help` exits 0, else its output.
    The subcommand is `args` up to the first option."""
    words = []
    for arg in args:
        if arg.startswith("-"):
            break
        words.append(arg)
    result = CliRunner().invoke(main, [*words, "--help"])
    return None if result.exit_code == 0 else f"smati {' '.join(words)}: {result.output}"
