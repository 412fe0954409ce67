"""What every command receives from the `smati` group: the settings, parsed once."""

from __future__ import annotations

import click

from models.settings import Settings


def settings_of(ctx: click.Context) -> Settings:
    """The settings the `smati` group parsed (environment, then its flags)."""
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings), "a smati command runs under the smati group"
    return settings
