"""Network bindings in the registry: each network server's application bound to one tenant,
looked up from what a message names, and from a device for a downlink."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner
from radio_messages import SITE_YAML, radio_site

from models.bindings import Bindings, DeviceBinding, NoBinding
from models.registry import NetworkBinding, NetworkServer
from models.registry_file import RegistryFileError, parse_registry
from smati.cli import main
from storage.registry_store import load_registry, save_registry


def last_line_of(text: str, fragment: str) -> int:
    return max(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def tenant_of(binding: NetworkBinding | None) -> str | None:
    return binding.tenant if binding else None


def test_a_message_s_application_finds_its_tenant() -> None:
    bindings = Bindings.of(radio_site().bindings)
    tts = bindings.find(NetworkServer.TTS, "smati-hq", "acme-corp")
    assert tts is not None and tts.tenant == "acme"
    assert bindings.find(NetworkServer.TTS, "smati-hq", "globex") is None
    assert tenant_of(bindings.find(NetworkServer.TTS, "plant", "globex")) == "globex"
    # ChirpStack's UUIDs and Sigfox's ids in whatever case the server writes them
    chirpstack = bindings.find(NetworkServer.CHIRPSTACK, "17C82E96-BE03-4F38-AEF3-F83D48582D97")
    assert chirpstack is not None and chirpstack.id == "acme-chirpstack"
    sigfox = bindings.find(NetworkServer.SIGFOX, "6B4C2F9DAB8E7F0012345678")
    assert sigfox is not None and sigfox.tenant == "globex"
    assert bindings.find(NetworkServer.SIGFOX, "5f3a1e8c9b7d6e0012345678", tenant="x") is not None
    assert bindings.find(NetworkServer.CHIRPSTACK, "smati-hq") is None


def test_without_the_network_tenant_only_the_calling_tenant_s_binding_is_found() -> None:
    """A TTS webhook's body names the application, not The Things Stack's tenant: the
    SMATI tenant that authenticated the call decides."""
    bindings = Bindings.of(radio_site().bindings)
    assert tenant_of(bindings.find(NetworkServer.TTS, "smati-hq", tenant="acme")) == "acme"
    assert bindings.find(NetworkServer.TTS, "smati-hq", tenant="globex") is None
    # nor a caller: found if only one tenant binds that application
    assert tenant_of(bindings.find(NetworkServer.TTS, "smati-hq")) == "acme"
    same_id_elsewhere = NetworkBinding(
        id="globex-hq",
        tenant="globex",
        server=NetworkServer.TTS,
        application="smati-hq",
        network_tenant="globex",
    )
    both = Bindings.of((*radio_site().bindings, same_id_elsewhere))
    assert both.find(NetworkServer.TTS, "smati-hq") is None  # whose? not told
    assert tenant_of(both.find(NetworkServer.TTS, "smati-hq", tenant="globex")) == "globex"


def test_a_device_s_binding_tells_where_a_downlink_goes() -> None:
    registry = radio_site()
    bindings = Bindings.of(registry.bindings)
    devices = {device.id: device for device in registry.devices}
    assert bindings.of_device(devices["elsys-meeting-room"]) == DeviceBinding(
        NetworkServer.TTS, "smati-hq", "acme-corp", "elsys-meeting-room"
    )
    assert bindings.of_device(devices["axioma-water-01"]).network_device_id == "qalcosonic-7"
    assert bindings.of_device(devices["milesight-pulse-01"]) == DeviceBinding(
        NetworkServer.CHIRPSTACK,
        "17c82e96-be03-4f38-aef3-f83d48582d97",
        None,
        "24E124136B000002",
    )
    assert bindings.of_device(devices["globex-sensor"]) == DeviceBinding(
        NetworkServer.SIGFOX, "6b4c2f9dab8e7f0012345678", None, "BEEF01"
    )
    unbound = devices["elsys-meeting-room"].model_copy(update={"binding": None})
    with pytest.raises(NoBinding, match="names no network binding"):
        bindings.of_device(unbound)


@pytest.mark.parametrize(
    ("original", "changed", "at", "message"),
    [
        (
            "{id: globex-tts, tenant: globex,",
            "{id: globex-tts, tenant: initech,",
            "id: globex-tts",
            "bindings.3.tenant: unknown tenant 'initech'",
        ),
        (
            "application: plant, network_tenant: globex}",
            "application: smati-hq, network_tenant: acme-corp}",
            "id: globex-tts",
            "The Things Stack application 'smati-hq'@acme-corp is already bound by 'acme-tts'",
        ),
        (
            "binding: globex-sigfox",
            "binding: acme-sigfox",
            "binding: acme-sigfox",
            "binding 'acme-sigfox' belongs to tenant 'acme', not 'globex'",
        ),
        (
            "binding: acme-chirpstack",
            "binding: acme-lns",
            "binding: acme-lns",
            "unknown binding 'acme-lns'",
        ),
    ],
)
def test_a_binding_error_points_at_its_line(
    original: str, changed: str, at: str, message: str
) -> None:
    bad = SITE_YAML.replace(original, changed)
    assert bad != SITE_YAML
    with pytest.raises(RegistryFileError) as error:
        parse_registry(bad, "site.yaml")
    ((line, text),) = error.value.problems
    assert message in text
    assert line == last_line_of(bad, at)


@pytest.mark.integration
def test_bindings_are_stored_and_loaded_back(database: str) -> None:
    with psycopg.connect(database) as conn:
        counts = save_registry(conn, radio_site())
        assert counts["network_bindings"] == 5
        assert load_registry(conn) == radio_site()


@pytest.mark.integration
def test_registry_show_and_export_carry_the_bindings(database: str) -> None:
    with psycopg.connect(database) as conn:
        save_registry(conn, radio_site())
    env = {"SMATI_DATABASE_URL": database}
    shown = CliRunner().invoke(main, ["registry", "show"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "  acme-tts  (acme): The Things Stack application 'smati-hq'@acme-corp" in shown.output
    assert "  axioma-water-01  (acme, axioma-qalcosonic-w1, 0004A30B00000003, acme-tts)" in (
        shown.output
    )
    exported = CliRunner().invoke(main, ["registry", "export"], env=env)
    assert exported.exit_code == 0, exported.output
    assert parse_registry(exported.output) == radio_site()
