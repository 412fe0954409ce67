"""Makers' JavaScript codecs, in the format of The Things Stack and ChirpStack v4.

A program defines `decodeUplink(input)` (`{bytes, fPort, recvTime}` in, `{data, warnings,
errors}` out) and may define `encodeDownlink(input)` (`{data, fPort}` in, `{bytes, fPort,
warnings, errors}` out), as the TTN Device Repository's codecs do. It runs in an embedded
V8 (mini-racer), one context per program: no file, network or module access, and no clock
(`Date` is the uplink's reception time, timers are removed), so a replay decodes the same.

A batch of uplinks is decoded in one call into the engine: a call costs hundreds of
microseconds, a payload decoded inside a call tens (README, "JavaScript codecs"). Each call
has a time and a memory limit; an uplink whose decoding alone reaches one is refused
(`CodecTimeout`, `CodecError`), the others of the batch are decoded, and the engine goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from py_mini_racer import JSEvalException, JSOOMException, JSTimeoutException, MiniRacer

from models.codecs.base import CodecError, CodecTimeout, DecodeError, port_refusal
from models.codecs.catalogue import JsCodec

# Installed before the program, in its context: its clock, and the entry points SMATI calls.
_HARNESS = """
var __smati = (function (RealDate) {
  var clock = 0;
  class CodecDate extends RealDate {
    constructor(...args) { if (args.length === 0) { super(clock); } else { super(...args); } }
    static now() { return clock; }
  }
  globalThis.Date = CodecDate;
  // mini-racer's timers (globals that cannot be deleted) wait on Atomics.waitAsync.
  for (const name of ["setTimeout", "clearTimeout", "__timer_manager"]) {
    globalThis[name] = undefined;
  }
  Atomics.waitAsync = undefined;
  var completed = [];
  function failure(error) {
    return JSON.stringify({ errors: [String(error)] });
  }
  function decodeOne(input) {
    clock = input.recvTime;
    try {
      var out = decodeUplink({
        bytes: input.bytes, fPort: input.fPort, recvTime: new CodecDate(input.recvTime),
        device: input.device,
      });
      return JSON.stringify(out === undefined ? null : out);
    } catch (error) {
      return failure(error);
    }
  }
  return {
    decode: function (inputs, options) {
      globalThis.codecOptions = options;
      completed = [];
      for (var i = 0; i < inputs.length; i++) { completed.push(decodeOne(inputs[i])); }
      return "[" + completed.join(",") + "]";
    },
    completed: function () { return "[" + completed.join(",") + "]"; },
    names: function () {
      return JSON.stringify(typeof codecNames === "function" ? codecNames() : []);
    },
    encode: function (data, fPort, options) {
      globalThis.codecOptions = options;
      if (typeof encodeDownlink !== "function") {
        return JSON.stringify({ errors: ["the codec defines no encodeDownlink"] });
      }
      try {
        return JSON.stringify(encodeDownlink({ data: data, fPort: fPort }));
      } catch (error) {
        return failure(error);
      }
    },
  };
})(Date);
"""


class CodecInput(NamedTuple):
    """What a codec is given of one uplink."""

    payload: bytes
    f_port: int | None
    received_at: datetime
    device: str = ""
    """The registry's device id: `input.device`, beyond the format, for codecs that keep
    state per device (Adeunis keeps each device's configuration frames)."""


Output = dict[str, Any]
"""A `decodeUplink` result: `data`, `warnings`, `errors`."""


TIMEOUTS_PER_BATCH = 3
"""A codec that timed out on this many payloads of a batch is not run on the rest of it
(refused as `codec_timeout`, to replay once fixed): each time-out costs the time limit, and
a codec that loops on every payload would hold the worker for the whole batch."""


@dataclass(frozen=True)
class Limits:
    """Of one call into the engine: a batch, or one payload found at fault in it."""

    time_s: float = 0.5
    memory_bytes: int = 64 << 20


class _LimitReached(Exception):
    def __init__(self, error: DecodeError, completed: list[Output] | None) -> None:
        super().__init__(str(error))
        self.error, self.completed = error, completed


class JsEngine:
    """The contexts of the programs run so far (one per program text), and their limits."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self._contexts: dict[str, MiniRacer] = {}
        # mini-racer applies its time limit only off an asyncio loop's thread: the contexts
        # live on a thread of their own, whoever calls (a worker, a web server, the CLI),
        # which also serialises their use.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="js-codecs")

    def decode(self, codec: JsCodec, inputs: Sequence[CodecInput]) -> list[Output | DecodeError]:
        """Each input's output, or why it has none, decoding all of them in one call when
        none reaches a limit."""
        return self._thread.submit(self._decode, codec, inputs).result()

    def encode(self, codec: JsCodec, data: object, f_port: int) -> Output:
        """`encodeDownlink`'s result for `data` on `f_port`."""
        return self._thread.submit(self._encode, codec, data, f_port).result()

    def names(self, codec: JsCodec) -> list[str]:
        """The codecs a program holds, where it names them (`codecNames()`): an npm
        package's device types."""
        return self._thread.submit(self._names, codec).result()

    def close(self) -> None:
        self._thread.submit(self._close).result()
        self._thread.shutdown()

    def _decode(self, codec: JsCodec, inputs: Sequence[CodecInput]) -> list[Output | DecodeError]:
        results: list[Output | DecodeError] = []
        while len(results) < len(inputs):
            if sum(isinstance(r, CodecTimeout) for r in results) >= TIMEOUTS_PER_BATCH:
                skipped = CodecTimeout(
                    f"codec {codec.id!r} not run: it timed out on {TIMEOUTS_PER_BATCH} "
                    "payloads of this batch"
                )
                return results + [skipped] * (len(inputs) - len(results))
            results += self._decode_from(codec, inputs[len(results) :])
        return results

    def _encode(self, codec: JsCodec, data: object, f_port: int) -> Output:
        context = self._context(codec)
        try:
            text = context.call(
                "__smati.encode", data, f_port, codec.options, **self._call_limits()
            )
        except (JSEvalException, JSOOMException) as error:
            self._discard(codec)
            raise _failure(codec, error) from None
        result: Output = json.loads(text)
        return result

    def _names(self, codec: JsCodec) -> list[str]:
        names: list[str] = json.loads(
            self._context(codec).call("__smati.names", **self._call_limits())
        )
        return names

    def _decode_from(
        self, codec: JsCodec, inputs: Sequence[CodecInput]
    ) -> list[Output | DecodeError]:
        """The outputs of one call: every input's, or those decoded before a limit was
        reached and, when the first input alone reached it, its refusal."""
        try:
            return list(self._call_decode(codec, inputs))
        except _LimitReached as reached:
            if reached.completed:
                return list(reached.completed)  # the payload in progress starts the next call
            if reached.completed is None and len(inputs) > 1:
                return self._decode_from(codec, inputs[:1])  # progress unknown: it alone
            return [reached.error]  # it alone reached the limit

    def _call_decode(self, codec: JsCodec, inputs: Sequence[CodecInput]) -> list[Output]:
        context = self._context(codec)
        batch = [
            {
                "bytes": list(i.payload),
                "fPort": i.f_port,
                "recvTime": _epoch_ms(i.received_at),
                "device": i.device,
            }
            for i in inputs
        ]
        try:
            text = context.call("__smati.decode", batch, codec.options, **self._call_limits())
        except JSTimeoutException:
            raise self._reached(codec, CodecTimeout(_timeout(codec, self.limits))) from None
        except JSOOMException:
            raise self._reached(codec, CodecError(_out_of_memory(codec, self.limits))) from None
        except JSEvalException as error:  # terminated, or the harness itself failed
            raise self._reached(codec, _failure(codec, error)) from None
        outputs: list[Output] = json.loads(text)
        return outputs

    def _reached(self, codec: JsCodec, error: DecodeError) -> _LimitReached:
        """The limit's error with the outputs the call completed, when the context still
        tells them; the context is discarded either way (V8 keeps a reached limit)."""
        context = self._contexts.get(_key(codec))
        completed: list[Output] | None = None
        if context is not None:
            try:
                context.set_hard_memory_limit(1 << 40)
                context.low_memory_notification()
                completed = json.loads(
                    context.call("__smati.completed", timeout_sec=self.limits.time_s)
                )
            except JSEvalException:
                completed = None
        self._discard(codec)
        return _LimitReached(error, completed)

    def _call_limits(self) -> dict[str, Any]:
        return {"timeout_sec": self.limits.time_s, "max_memory": self.limits.memory_bytes}

    def _context(self, codec: JsCodec) -> MiniRacer:
        key = _key(codec)
        context = self._contexts.get(key)
        if context is None:
            if not codec.program:
                raise CodecError(f"codec {codec.id!r} has no program (load its file or package)")
            context = MiniRacer()
            try:
                context.eval(_HARNESS, **self._call_limits())
                context.eval(codec.program, **self._call_limits())
            except (JSEvalException, JSOOMException) as error:
                context.close()
                raise _failure(codec, error, "does not load") from None
            self._contexts[key] = context
        return context

    def _discard(self, codec: JsCodec) -> None:
        context = self._contexts.pop(_key(codec), None)
        if context is not None:
            context.close()

    def _close(self) -> None:
        for context in self._contexts.values():
            context.close()
        self._contexts.clear()


def outputs_or_errors(
    engine: JsEngine, codec: JsCodec, inputs: Sequence[CodecInput]
) -> list[Output | DecodeError]:
    """`engine.decode`, with a codec that cannot load refusing every input with its reason,
    and the inputs on a port the codec entry excludes refused without a call."""
    results: list[Output | DecodeError | None] = [
        port_refusal(one.f_port, codec.f_ports) for one in inputs
    ]
    todo = [n for n, result in enumerate(results) if result is None]
    try:
        decoded = engine.decode(codec, [inputs[n] for n in todo])
    except DecodeError as error:
        decoded = [error] * len(todo)
    for n, result in zip(todo, decoded, strict=True):
        results[n] = result
    return [result for result in results if result is not None]


@cache
def default_engine() -> JsEngine:
    """One engine with the default limits for the process, made at first use."""
    return JsEngine()


def encode_downlink(codec: JsCodec, obj: object, f_port: int) -> bytes:
    """The payload of a downlink: `obj` encoded by the codec's `encodeDownlink` for
    `f_port`; CodecError with the codec's errors if it has none or refuses `obj`."""
    result = default_engine().encode(codec, obj, f_port)
    errors = result.get("errors") if isinstance(result, dict) else ["not an object"]
    if errors:
        raise CodecError(f"codec {codec.id!r} cannot encode: {'; '.join(map(str, errors))}")
    encoded = result.get("bytes")
    if not isinstance(encoded, list) or not all(
        isinstance(b, int) and 0 <= b <= 255 for b in encoded
    ):
        raise CodecError(f"codec {codec.id!r}: encodeDownlink returned no byte array")
    return bytes(encoded)


def _key(codec: JsCodec) -> str:
    return hashlib.sha256(codec.program.encode()).hexdigest()


def _epoch_ms(moment: datetime) -> float:
    return moment.timestamp() * 1000


def _timeout(codec: JsCodec, limits: Limits) -> str:
    return f"codec {codec.id!r} did not finish within {limits.time_s:g} s"


def _out_of_memory(codec: JsCodec, limits: Limits) -> str:
    return f"codec {codec.id!r} exceeded its memory limit of {limits.memory_bytes >> 20} MB"


def _failure(codec: JsCodec, error: Exception, what: str = "failed") -> CodecError:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return CodecError(f"codec {codec.id!r} {what}: {first_line}")
