from __future__ import annotations

import pytest

from connectors.topics import TopicTemplate


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
