"""JavaScript codecs in the embedded engine: the makers' codecs from npm give their makers'
published examples, a user's `decodeUplink` file decodes as the native codec does, and a
codec that loops or allocates without end is stopped within its limits while the other
payloads of its batch are decoded."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from models.codecs import CODECS, CodecError, CodecTimeout
from models.codecs.catalogue import CodecChannel, JsCodec, channel_values
from models.codecs.javascript import (
    TIMEOUTS_PER_BATCH,
    CodecInput,
    JsEngine,
    Limits,
    encode_downlink,
    outputs_or_errors,
)
from models.dead_letter import RejectCode
from models.registry_file import parse_registry
from models.uplink import RawUplink
from models.validation import DeviceIndex, decode_uplink
from services.codec_packages import package_program

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TLV_CODEC_FILE = Path(__file__).parent.parent / "benchmarks" / "codecs" / "tlv-climate.js"
# An EM300-TH frame as Milesight documents it: battery 100 %, 27.3 °C, 54 % (any port).
EM300_TH = bytes.fromhex("0175640367110104686c")

LOOPS_ON_1_HOGS_ON_2 = """
function decodeUplink(input) {
  if (input.bytes[0] === 1) { while (true) {} }
  if (input.bytes[0] === 2) { var kept = []; while (true) kept.push(new Array(1e5).fill(1)); }
  return { data: { value: input.bytes[0], now: Date.now() } };
}
"""


@pytest.fixture(scope="module")
def engine() -> JsEngine:
    return JsEngine()


@pytest.fixture(scope="module")
def adeunis() -> str:
    """The program of @adeunis/codecs as installed from npm by the set-up."""
    return package_program("@adeunis/codecs")


def adeunis_codec(program: str, device_type: str, network: str = "lora868") -> JsCodec:
    options: dict[str, str | int | float | bool] = {"device_type": device_type, "network": network}
    return JsCodec(id=f"adeunis-{device_type}", package="@adeunis/codecs", program=program,
                   options=options)  # fmt: skip


def data(engine: JsEngine, codec: JsCodec, payload: str, f_port: int | None = 1) -> Any:
    (output,) = engine.decode(codec, [CodecInput(bytes.fromhex(payload), f_port, NOW)])
    assert isinstance(output, dict) and not output.get("errors"), output
    return output["data"]


# The Adeunis examples are those of the package's own tests (src/products/*/*.spec.ts).
def test_adeunis_temp_over_sigfox_gives_the_makers_example(engine: JsEngine, adeunis: str) -> None:
    codec = adeunis_codec(adeunis, "temp", "sigfox")
    probes = data(engine, codec, "43401100f4200000", None)["temperatures"]
    assert [(p["name"], p["value"], p["state"]) for p in probes] == [
        ("probe 1", 24.4, "activated"),
        ("probe 2", 0, "deactivated"),
    ]
    probes = data(engine, codec, "43A2D1015E82FF06", None)["temperatures"]
    assert [p["value"] for p in probes] == [35, -25]


def test_adeunis_pulse_gives_the_makers_example(engine: JsEngine, adeunis: str) -> None:
    decoded = data(engine, adeunis_codec(adeunis, "pulse"), "46800000009f00000002")
    assert decoded["type"] == "0x46 Pulse data"
    assert decoded["counterValues"] == [159, 2]


def test_adeunis_tic_linky_gives_the_makers_examples(engine: JsEngine, adeunis: str) -> None:
    tri = data(
        engine,
        adeunis_codec(adeunis, "ticCbeLinkyTri"),
        "4940303231373238303331383139000012340000002b0000002c0000002d"
        "0000001100000012000000130000002000000010",
    )
    assert tri["ADCO"] == "021728031819"
    assert {k: tri[k]["value"] for k in ("BASE", "IINST1", "IINST2", "IINST3", "PAPP")} == {
        "BASE": 4660,
        "IINST1": 43,
        "IINST2": 44,
        "IINST3": 45,
        "PAPP": 16,
    }
    mono = data(
        engine,
        adeunis_codec(adeunis, "ticCbeLinkyMono"),
        "494030323137323830333138313948432e2e800000000000002d"
        "000000000000000000000000000000000000000048502e2e",
    )
    assert (mono["ADCO"], mono["OPTARIF"], mono["PTEC"]) == ("021728031819", "HC..", "HP..")
    assert mono["ISOUSC"]["value"] == 45


def test_a_frame_the_adeunis_codec_does_not_support_is_its_error(
    engine: JsEngine, adeunis: str
) -> None:
    (output,) = engine.decode(adeunis_codec(adeunis, "temp"), [CodecInput(b"\x99\x00", 1, NOW)])
    assert isinstance(output, dict)
    assert output["errors"] == ["Unsupported frame for an Adeunis temp"]
    with pytest.raises(CodecError, match="Unsupported frame"):
        channel_values(adeunis_codec(adeunis, "temp"), output, NOW)


def test_adeunis_channels_by_path_with_units(engine: JsEngine, adeunis: str) -> None:
    codec = adeunis_codec(adeunis, "temp", "sigfox").model_copy(
        update={
            "channels": {
                "probe_1": CodecChannel(path="temperatures.0.value", unit="°C"),
                "probe_2": CodecChannel(path="temperatures.1.value", unit="°C"),
                "probe_3": CodecChannel(path="temperatures.2.value", unit="°C"),
            }
        }
    )
    (output,) = engine.decode(codec, [CodecInput(bytes.fromhex("43A2D1015E82FF06"), None, NOW)])
    assert isinstance(output, dict)
    values = channel_values(codec, output, NOW)
    assert [(v.channel, v.value, v.unit) for v in values] == [
        ("probe_1", 35.0, "°C"),
        ("probe_2", -25.0, "°C"),
    ]


def test_a_user_decode_uplink_file_decodes_em300_th_as_the_native_codec_on_port_1(
    engine: JsEngine,
) -> None:
    codec = JsCodec(id="tlv-climate", file=str(TLV_CODEC_FILE), program=TLV_CODEC_FILE.read_text())
    (output,) = engine.decode(codec, [CodecInput(EM300_TH, 1, NOW)])
    assert isinstance(output, dict)
    from_js = {(v.channel, v.value) for v in channel_values(codec, output, NOW)}
    native = {(v.channel, v.value) for v in CODECS["milesight-em300"](EM300_TH, NOW, 1)}
    assert from_js == native == {("battery", 100), ("temperature", 27.3), ("humidity", 54)}


def test_the_codec_sees_the_reception_time_as_its_clock(engine: JsEngine) -> None:
    codec = JsCodec(id="clock", program=LOOPS_ON_1_HOGS_ON_2)
    assert data(engine, codec, "05")["now"] == NOW.timestamp() * 1000


def test_the_codec_is_told_the_registrys_device(engine: JsEngine) -> None:
    codec = JsCodec(id="device", program="function decodeUplink(i) { return {data: i}; }")
    (output,) = engine.decode(codec, [CodecInput(b"\x01", 7, NOW, "store-temp-01")])
    assert isinstance(output, dict)
    assert output["data"] == {
        "bytes": [1],
        "fPort": 7,
        "recvTime": NOW.isoformat().replace("+00:00", ".000Z"),
        "device": "store-temp-01",
    }


def test_the_codec_has_no_module_loader_network_or_timers(engine: JsEngine) -> None:
    codec = JsCodec(
        id="probe",
        program="function decodeUplink(i) { return {data: {n: [typeof require, typeof fetch,"
        " typeof XMLHttpRequest, typeof setTimeout, typeof process].join(',')}}; }",
    )
    assert data(engine, codec, "00")["n"] == "undefined,undefined,undefined,undefined,undefined"


def test_a_looping_and_a_hogging_codec_are_stopped_and_the_batch_goes_on() -> None:
    engine = JsEngine(Limits(time_s=0.2, memory_bytes=32 << 20))
    codec = JsCodec(id="bad", program=LOOPS_ON_1_HOGS_ON_2)
    began = time.monotonic()
    results = engine.decode(codec, [CodecInput(bytes([b]), 1, NOW) for b in (5, 1, 6, 2, 7)])
    elapsed = time.monotonic() - began
    assert [r["data"]["value"] if isinstance(r, dict) else type(r) for r in results] == [
        5,
        CodecTimeout,
        6,
        CodecError,
        7,
    ]
    assert "memory limit of 32 MB" in str(results[3])
    # Each stopped within its own call's limit (a call per refusal and one to go on).
    assert elapsed < 5 * 0.2 + 2


def test_a_codec_timing_out_again_and_again_is_not_run_on_the_rest_of_its_batch() -> None:
    engine = JsEngine(Limits(time_s=0.1))
    codec = JsCodec(id="loops", program=LOOPS_ON_1_HOGS_ON_2)
    results = engine.decode(codec, [CodecInput(b"\x01", 1, NOW)] * 6)
    assert [type(r) for r in results] == [CodecTimeout] * 6
    assert [str(r) for r in results[2:4]] == [
        "codec 'loops' did not finish within 0.1 s",
        f"codec 'loops' not run: it timed out on {TIMEOUTS_PER_BATCH} payloads of this batch",
    ]
    (after,) = engine.decode(codec, [CodecInput(b"\x05", 1, NOW)])  # the next batch runs it
    assert isinstance(after, dict) and after["data"]["value"] == 5


def test_a_codec_that_does_not_load_refuses_every_payload_with_its_reason() -> None:
    codec = JsCodec(id="broken", program="function decodeUplink(input) {")
    results = outputs_or_errors(JsEngine(), codec, [CodecInput(b"\x01", 1, NOW)] * 2)
    assert [type(r) for r in results] == [CodecError, CodecError]
    assert "does not load: <anonymous>:1: SyntaxError: Unexpected end of input" in str(results[0])


def test_ports_outside_the_codec_entry_are_wrong_ports_without_a_call(engine: JsEngine) -> None:
    codec = JsCodec(id="port-85", program=LOOPS_ON_1_HOGS_ON_2, f_ports=(85,))
    results = outputs_or_errors(engine, codec, [CodecInput(b"\x01", 1, NOW)])
    assert [type(r).__name__ for r in results] == ["WrongPort"]


def test_a_codec_dispatching_on_the_port_refuses_an_unknown_port_as_wrong_port(
    engine: JsEngine,
) -> None:
    codec = JsCodec(
        id="dispatch",
        program="function decodeUplink(i) { if (i.fPort !== 2) return {errors: ['unknown FPort "
        "' + i.fPort]}; return {data: {level: i.bytes[0]}}; }",
    )
    outputs = engine.decode(codec, [CodecInput(b"\x07", 2, NOW), CodecInput(b"\x07", 3, NOW)])
    assert isinstance(outputs[0], dict) and isinstance(outputs[1], dict)
    assert [(v.channel, v.value) for v in channel_values(codec, outputs[0], NOW)] == [
        ("level", 7.0)
    ]
    with pytest.raises(Exception, match="unknown FPort 3") as refused:
        channel_values(codec, outputs[1], NOW)
    assert type(refused.value).__name__ == "WrongPort"


def test_encode_downlink_uses_the_codecs_encode_downlink() -> None:
    codec = JsCodec(id="tlv-climate", program=TLV_CODEC_FILE.read_text())
    assert encode_downlink(codec, {"interval_minutes": 10}, 85) == bytes.fromhex("ff035802")
    with pytest.raises(CodecError, match="interval_minutes must be between"):
        encode_downlink(codec, {"interval_minutes": 0}, 85)
    with pytest.raises(CodecError, match="defines no encodeDownlink"):
        encode_downlink(JsCodec(id="no-encoder", program=LOOPS_ON_1_HOGS_ON_2), {}, 1)


SITE = """
tenants:
  - id: acme
    entities:
      - id: lab
        equipment:
          - id: lab.room
            usages:
              - {id: lab.temperature, type: instant, unit: °C, period_s: 600}
devices:
  - {id: climate-01, tenant: acme, model: tlv-climate, channels: {temperature: lab.temperature}}
"""


def test_an_uplink_with_no_codec_yet_is_a_codec_error_then_decodes_once_it_is_added(
    engine: JsEngine,
) -> None:
    uplink = RawUplink(source="mqtt", device_id="climate-01", received_at=NOW, payload=EM300_TH)
    site = parse_registry(SITE)
    (refused,) = decode_uplink(uplink, "o", DeviceIndex.of(site), engine=engine).rejections
    assert refused.code == RejectCode.CODEC_ERROR
    assert "no codec for device model 'tlv-climate'" in refused.reason
    channels = {"temperature": CodecChannel(path="temperature", unit="°C")}
    codec = JsCodec(id="tlv-climate", program=TLV_CODEC_FILE.read_text(), channels=channels)
    fixed = DeviceIndex.of(site.model_copy(update={"codecs": (codec,)}))
    decoded = decode_uplink(uplink, "o", fixed, engine=engine)
    assert [(r.usage_id, r.value, r.unit) for r in decoded.readings] == [
        ("lab.temperature", 27.3, "°C")
    ]
    assert decoded.rejections == []
