"""Registry YAML: the demo file is valid; errors name the line at fault."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from models.reading import UsageType
from models.registry_file import RegistryFileError, parse_registry

DEMO = resources.files("smati").joinpath("examples/demo-building.yaml").read_text()


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_demo_registry_covers_the_required_usages() -> None:
    registry = parse_registry(DEMO)
    refs = registry.usage_refs()
    assert len({ref.entity_id for ref in refs}) == 2
    units = {(ref.usage.type, ref.usage.unit) for ref in refs}
    assert {(UsageType.INDEX, "kWh"), (UsageType.INDEX, "m3"), (UsageType.INSTANT, "ppm")} <= units
    assert (UsageType.INSTANT, "°C") in units
    used = {u for device in registry.devices for u in device.channels.values()}
    assert used == {ref.usage.id for ref in refs}


def test_field_error_points_at_its_line() -> None:
    bad = DEMO.replace(
        "unit: ppm\n                period_s: 3600", "unit: ppm\n                period_s: -5", 1
    )
    with pytest.raises(RegistryFileError) as error:
        parse_registry(bad, "site.yaml")
    ((line, message),) = error.value.problems
    assert line == line_of(bad, "period_s: -5")
    assert "period_s" in message and "greater than 0" in message
    assert f"site.yaml:{line}:" in str(error.value)


def test_dangling_usage_reference_points_at_the_channel() -> None:
    bad = DEMO.replace("{index: hotel-paris.water}", "{index: hotel-paris.waterz}")
    with pytest.raises(RegistryFileError) as error:
        parse_registry(bad)
    ((line, message),) = error.value.problems
    assert line == line_of(bad, "hotel-paris.waterz")
    assert "unknown usage 'hotel-paris.waterz'" in message


def test_duplicate_usage_id_and_bad_thresholds() -> None:
    bad = DEMO.replace("id: office-lyon.room-co2", "id: office-lyon.room-temperature")
    with pytest.raises(RegistryFileError, match="duplicate usage id"):
        parse_registry(bad)
    bad = DEMO.replace("min: 17\n                max: 26", "min: 30\n                max: 26")
    with pytest.raises(RegistryFileError, match="must be below max"):
        parse_registry(bad)


@pytest.mark.parametrize(
    ("original", "repeated", "what"),
    [
        ("id: office-lyon.room-co2", "id: office-lyon.room-temperature", "usage"),
        ("id: lyon-room-01", "id: paris-lobby-01", "device"),
        ("id: office-lyon\n", "id: hotel-paris\n", "entity"),
    ],
)
def test_a_duplicate_id_points_at_its_second_line(original: str, repeated: str, what: str) -> None:
    assert original in DEMO
    bad = DEMO.replace(original, repeated)
    with pytest.raises(RegistryFileError) as error:
        parse_registry(bad, "site.yaml")
    ((line, message),) = error.value.problems
    lines = [n for n, text in enumerate(bad.splitlines(), 1) if text.endswith(repeated.strip())]
    assert line == lines[1]
    assert f"duplicate {what} id '{repeated.strip().removeprefix('id: ')}'" in message


@pytest.mark.parametrize(
    ("original", "repeated", "message"),
    [
        (
            "transceiver: 24E124136B0A1002",
            "transceiver: 24E124136B0A1001",
            "transceiver '24E124136B0A1001' already names device 'office-climate'",
        ),
        (  # a TTS device id within its application
            "network_id: eui-0018b2200000a102",
            "network_id: lht65-cold-room",
            "network_id 'lht65-cold-room' already names device 'cold-room'",
        ),
    ],
)
def test_two_devices_named_alike_on_their_network_are_refused(
    original: str, repeated: str, message: str
) -> None:
    """Otherwise one device's frames would be stored as the other's."""
    building = (Path(__file__).parent / "building" / "site.yaml").read_text()
    assert original in building
    bad = building.replace(original, repeated)
    with pytest.raises(RegistryFileError) as error:
        parse_registry(bad, "site.yaml")
    ((line, problem),) = error.value.problems
    assert problem.endswith(message)
    assert line is not None and bad.splitlines()[line - 1].strip() == repeated


def test_yaml_syntax_error_has_its_line() -> None:
    bad = DEMO.replace("  - id: acme", "  - id: [acme", 1)
    with pytest.raises(RegistryFileError) as error:
        parse_registry(bad)
    assert error.value.problems[0][0] is not None
    assert "not valid YAML" in error.value.problems[0][1]


def test_unknown_key_is_refused() -> None:
    bad = DEMO.replace("kind: hotel", "kind: hotel\n        stars: 4", 1)
    with pytest.raises(RegistryFileError, match="stars"):
        parse_registry(bad)
