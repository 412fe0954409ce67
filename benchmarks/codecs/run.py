"""The cost per uplink of a JavaScript codec beside the native codec of the same frame, in
one run: an EM300-TH frame decoded by the native Milesight codec, and by a `decodeUplink`
file in the TTN Device Repository format (`tlv-climate.js`, same output) in the embedded
engine, one uplink per call and a batch per call (as the stream does); the same through the
stream's whole decoding step (`decode_uplinks`: envelope, device, codec, checks), and the
maker's Adeunis TEMP codec from npm, batched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.metadata import version

from py_mini_racer import MiniRacer

from models.codecs import CODECS
from models.codecs.catalogue import CodecChannel, JsCodec
from models.codecs.javascript import CodecInput, JsEngine
from models.registry_file import parse_registry
from models.uplink import RawUplink
from models.validation import DeviceIndex, decode_uplinks
from services.codec_packages import package_program

__all__ = ["Figures", "run_benchmark"]

EM300_TH = bytes.fromhex("0175640367110104686c")
ADEUNIS_TEMP = bytes.fromhex("43A2D1015E82FF06")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
_SITE = """
tenants:
  - id: bench
    entities:
      - id: b
        equipment:
          - id: b.room
            usages:
              - {id: b.temperature, type: instant, unit: °C, period_s: 600}
              - {id: b.humidity, type: instant, unit: "%", period_s: 600}
devices:
  - {id: native, tenant: bench, model: milesight-em300,
     channels: {temperature: b.temperature, humidity: b.humidity}}
  - {id: js, tenant: bench, model: tlv-climate,
     channels: {temperature: b.temperature, humidity: b.humidity}}
"""


@dataclass(frozen=True)
class Figures:
    engine: str
    uplinks: int
    batch: int
    native_us: float
    """Per uplink: the native Milesight codec."""
    js_per_call_us: float
    """Per uplink, one call into the engine per uplink."""
    js_batched_us: float
    """Per uplink, one call per batch."""
    ratio_per_call: float
    ratio_batched: float
    decode_native_us: float
    """Per uplink, the stream's decoding step with the native codec."""
    decode_js_us: float
    """Per uplink, the same step with the JavaScript codec, batched."""
    ratio_decode: float
    adeunis_temp_batched_us: float
    """Per uplink, the maker's Adeunis TEMP codec (npm), batched."""

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def _per_uplink_us(work: Callable[[], object], count: int, repeats: int) -> float:
    """The best of `repeats` runs of `work` (which handles `count` uplinks), per uplink."""
    work()  # warm: contexts, caches
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    return best / count * 1e6


def _tlv_codec() -> JsCodec:
    program = resources.files("benchmarks.codecs").joinpath("tlv-climate.js").read_text()
    channels = {
        "temperature": CodecChannel(path="temperature", unit="°C"),
        "humidity": CodecChannel(path="humidity", unit="%"),
    }
    return JsCodec(id="tlv-climate", file="tlv-climate.js", program=program, channels=channels)


def _index(js: JsCodec) -> DeviceIndex:
    """Two devices sending the same frame: one decoded natively, one by `js`."""
    return DeviceIndex.of(parse_registry(_SITE).model_copy(update={"codecs": (js,)}))


def _same_readings(index: DeviceIndex, engine: JsEngine) -> None:
    """The two codecs compared give the same readings, or the figures mean nothing."""
    native, js = decode_uplinks(_uplinks("native", 1) + _uplinks("js", 1), index, engine=engine)
    values = [sorted((r.usage_id, r.value, r.unit) for r in d.readings) for d in (native, js)]
    if values[0] != values[1] or not values[0]:
        raise AssertionError(f"native and JavaScript codecs disagree: {values}")


def _uplinks(device: str, count: int) -> list[tuple[RawUplink, str]]:
    uplink = RawUplink(source="mqtt", device_id=device, received_at=NOW, payload=EM300_TH)
    return [(uplink, f"bench/0/{n}") for n in range(count)]


def run_benchmark(uplinks: int = 2000, batch: int = 500, repeats: int = 3) -> Figures:
    engine = JsEngine()
    js = _tlv_codec()
    native = CODECS["milesight-em300"]
    one = [CodecInput(EM300_TH, 1, NOW)]
    batches = [one * batch] * (uplinks // batch)
    adeunis = JsCodec(
        id="adeunis-temp", package="@adeunis/codecs", program=package_program("@adeunis/codecs"),
        options={"device_type": "temp", "network": "sigfox"},
    )  # fmt: skip
    adeunis_batch = [CodecInput(ADEUNIS_TEMP, None, NOW)] * batch
    index = _index(js)
    _same_readings(index, engine)
    native_us = _per_uplink_us(
        lambda: [native(EM300_TH, NOW, 1) for _ in range(uplinks)], uplinks, repeats
    )
    per_call_us = _per_uplink_us(
        lambda: [engine.decode(js, one) for _ in range(uplinks)], uplinks, repeats
    )
    batched_us = _per_uplink_us(lambda: [engine.decode(js, b) for b in batches], uplinks, repeats)
    native_step = [_uplinks("native", batch)] * (uplinks // batch)
    js_step = [_uplinks("js", batch)] * (uplinks // batch)
    decode_native_us = _per_uplink_us(
        lambda: [decode_uplinks(b, index, engine=engine) for b in native_step], uplinks, repeats
    )
    decode_js_us = _per_uplink_us(
        lambda: [decode_uplinks(b, index, engine=engine) for b in js_step], uplinks, repeats
    )
    adeunis_us = _per_uplink_us(lambda: engine.decode(adeunis, adeunis_batch), batch, repeats)
    engine.close()
    return Figures(
        engine=f"V8 {MiniRacer().v8_version} (mini-racer {version('mini-racer')})",
        uplinks=uplinks,
        batch=batch,
        native_us=round(native_us, 2),
        js_per_call_us=round(per_call_us, 2),
        js_batched_us=round(batched_us, 2),
        ratio_per_call=round(per_call_us / native_us, 1),
        ratio_batched=round(batched_us / native_us, 1),
        decode_native_us=round(decode_native_us, 2),
        decode_js_us=round(decode_js_us, 2),
        ratio_decode=round(decode_js_us / decode_native_us, 2),
        adeunis_temp_batched_us=round(adeunis_us, 2),
    )
