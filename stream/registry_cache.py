"""The registry as the worker holds it in memory, reloaded from the database periodically."""

from __future__ import annotations

import asyncio
import gc
import logging

import psycopg

from models.alarms import DEFAULT_ALARM_RULES, AlarmRule
from models.registry import Registry, UsageRef
from models.validation import DeviceIndex
from storage.registry_store import load_registry, registry_revision

log = logging.getLogger(__name__)


class RegistryCache:
    """Device -> usages index and usage lookup; `ready` is set once the first load is done."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self.devices = DeviceIndex({})
        self.usages: dict[str, UsageRef] = {}
        self.device_of: dict[str, str] = {}
        """The device feeding each usage."""
        self._alarm_rules: dict[str, tuple[AlarmRule, ...]] = {}
        self.ready = asyncio.Event()
        self._revision_loaded = -1

    async def reload(self) -> None:
        """Load the registry if it was saved since the last load (or never loaded).

        While the database cannot be reached, the registry loaded stays in use and the
        next period tries again: an outage must not end the worker (the batches wait it
        out on their own, stream.outage)."""
        try:
            revision = await asyncio.to_thread(self._revision)
            if revision == self._revision_loaded and self.ready.is_set():
                return
            registry = await asyncio.to_thread(self._load)
        except psycopg.OperationalError as error:
            reason = str(error).splitlines()[0]
            log.warning(
                "registry not reloaded, database unreachable (%s); keeping the last one", reason
            )
            return
        self._revision_loaded = revision
        self.devices = DeviceIndex.of(registry)
        self.usages = self.devices.usages
        self.device_of = {u: d.id for d in registry.devices for u in d.channels.values()}
        self._alarm_rules = {
            t.id: t.alarm_rules for t in registry.tenants if t.alarm_rules is not None
        }
        # Hundreds of thousands of long-lived objects: out of the garbage collector's
        # sight, or each of its full passes scans them all again (refcounting still
        # frees them when the next load replaces them).
        gc.freeze()
        self.ready.set()
        log.info(
            "registry loaded: %d devices, %d usages", len(self.devices.devices), len(self.usages)
        )

    def alarm_rules(self, tenant_id: str) -> tuple[AlarmRule, ...]:
        """The tenant's alarm rules, the built-in ones unless its registry entry has some."""
        return self._alarm_rules.get(tenant_id, DEFAULT_ALARM_RULES)

    def _revision(self) -> int:
        with psycopg.connect(self._database_url) as conn:
            return registry_revision(conn)

    def _load(self) -> Registry:
        with psycopg.connect(self._database_url) as conn:
            return load_registry(conn)
