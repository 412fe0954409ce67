"""The registry as the worker holds it in memory, reloaded from the database periodically."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable

import psycopg
from pydantic import BaseModel

from models.registry import Registry, UsageRef
from models.validation import DeviceIndex
from storage.registry_store import load_registry, registry_revision

log = logging.getLogger(__name__)


def share_fields_sets(models: Iterable[BaseModel]) -> None:
    """Give models that set the same fields one shared set of those names.

    Pydantic keeps, in every instance, the set of the fields it was given: 728 bytes for a
    usage, its device and its registry entry each, two thirds of what the worker holds per
    usage. The registry's models are frozen, so their sets are never changed in place
    (`model_copy` copies its own): one set per distinct content serves them all.
    """
    shared: dict[frozenset[str], set[str]] = {}
    for model in models:
        names = frozenset(model.__pydantic_fields_set__)
        object.__setattr__(model, "__pydantic_fields_set__", shared.setdefault(names, set(names)))


class RegistryCache:
    """Device -> usages index and usage lookup; `ready` is set once the first load is done."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self.devices = DeviceIndex({})
        self.usages: dict[str, UsageRef] = {}
        self.ready = asyncio.Event()
        self._revision_loaded = -1

    async def reload(self) -> None:
        """Load the registry if it was saved since the last load (or never loaded)."""
        revision = await asyncio.to_thread(self._revision)
        if revision == self._revision_loaded and self.ready.is_set():
            return
        registry = await asyncio.to_thread(self._load)
        self._revision_loaded = revision
        self.devices = DeviceIndex.of(registry)
        self.usages = self.devices.usages
        share_fields_sets(
            [
                *registry.devices,
                *self.usages.values(),
                *(ref.usage for ref in self.usages.values()),
            ]
        )
        # Hundreds of thousands of long-lived objects: out of the garbage collector's
        # sight, or each of its full passes scans them all again (refcounting still
        # frees them when the next load replaces them).
        gc.freeze()
        self.ready.set()
        log.info(
            "registry loaded: %d devices, %d usages", len(self.devices.devices), len(self.usages)
        )

    def _revision(self) -> int:
        with psycopg.connect(self._database_url) as conn:
            return registry_revision(conn)

    def _load(self) -> Registry:
        with psycopg.connect(self._database_url) as conn:
            return load_registry(conn)
