from __future__ import annotations

import pytest

from connectors.topics import DEFAULT_TEMPLATES, TopicTemplate


def test_template_gives_subscription_and_device_id() -> None:
    template = TopicTemplate("smati/devices/{device_id}/up")
    assert template.subscription == "smati/devices/+/up"
    assert template.device_id("smati/devices/paris-elec-01/up") == "paris-elec-01"
    assert template.device_id("smati/devices/a/b/up") is None
    assert template.device_id("other/devices/x/up") is None


def test_wildcards_around_the_device_level() -> None:
    template = TopicTemplate("site/+/{device_id}/#")
    assert template.subscription == "site/+/+/#"
    assert template.device_id("site/paris/meter-7/up/raw") == "meter-7"
    assert template.device_id("site/paris/meter-7") == "meter-7"
    assert template.device_id("site/paris//up") is None


@pytest.mark.parametrize(
    "bad", ["smati/devices/up", "a/{device_id}/{device_id}", "a/#/{device_id}"]
)
def test_bad_templates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        TopicTemplate(bad)


def test_network_servers_topics() -> None:
    tts = TopicTemplate(DEFAULT_TEMPLATES["tts"])
    chirpstack = TopicTemplate(DEFAULT_TEMPLATES["chirpstack"])
    assert tts.subscription == "v3/+/devices/+/up"
    assert tts.device_id("v3/hq-sensors@acme/devices/elsys-1/up") == "elsys-1"
    assert tts.device_id("v3/hq-sensors@acme/devices/elsys-1/join") is None
    assert chirpstack.subscription == "application/+/device/+/event/up"
    topic = "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up"
    assert chirpstack.device_id(topic) == "0101010101010101"
