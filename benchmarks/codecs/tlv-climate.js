// A climate sensor codec written for SMATI (tests, benchmark) in the TTN Device Repository format
// (decodeUplink), for frames laid out as Milesight's EM300-TH documents them: items of a
// channel byte, a type byte and a little-endian value. Any data port.
function readInt16LE(bytes, at) {
  var value = bytes[at] | (bytes[at + 1] << 8);
  return value > 0x7fff ? value - 0x10000 : value;
}

var ITEMS = {
  "1/117": { name: "battery", size: 1, read: function (b, at) { return b[at]; } },
  "3/103": { name: "temperature", size: 2, read: function (b, at) { return readInt16LE(b, at) / 10; } },
  "4/104": { name: "humidity", size: 1, read: function (b, at) { return b[at] / 2; } },
};

function decodeUplink(input) {
  var bytes = input.bytes;
  var data = {};
  for (var at = 0; at < bytes.length; ) {
    var item = ITEMS[bytes[at] + "/" + bytes[at + 1]];
    if (!item) {
      return { errors: ["unknown item " + bytes[at] + "/" + bytes[at + 1] + " at byte " + at] };
    }
    if (at + 2 + item.size > bytes.length) {
      return { errors: [item.name + " is truncated"] };
    }
    data[item.name] = item.read(bytes, at + 2);
    at += 2 + item.size;
  }
  return { data: data, warnings: [] };
}

// A downlink setting the reporting interval in minutes: item 0xFF 0x03, uint16 LE seconds.
function encodeDownlink(input) {
  var seconds = input.data.interval_minutes * 60;
  if (!(seconds > 0 && seconds <= 0xffff)) {
    return { errors: ["interval_minutes must be between 1 and 1092"] };
  }
  return { bytes: [0xff, 0x03, seconds & 0xff, seconds >> 8], fPort: 85 };
}
