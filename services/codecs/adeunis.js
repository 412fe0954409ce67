// SMATI's adapter from the `decodeUplink(input)` format (The Things Stack, ChirpStack v4)
// to the Adeunis codecs of @adeunis/codecs, loaded before this file with the package's
// buffer shim: `codec.Decoder` decodes a hexadecimal frame for a device type and a
// network. The device model's codec entry gives both in `codecOptions`:
// {device_type: "temp" | "pulse" | "ticCbeLinkyMono" | ..., network: "sigfox" | "lora868"}.
var adeunisDecoder = new codec.Decoder();

function adeunisHex(bytes) {
  var hex = "";
  for (var i = 0; i < bytes.length; i++) {
    hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  }
  return hex;
}

// The device types the package decodes, for `smati codecs list`.
function codecNames() {
  var names = adeunisDecoder.getSupported().map(function (p) { return p.deviceType; });
  return names.filter(function (name, at) {
    return name !== "any" && names.indexOf(name) === at;
  }).sort();
}

function decodeUplink(input) {
  var deviceType = codecOptions.device_type;
  var network = codecOptions.network || "unknown";
  if (!deviceType) {
    return { errors: ["the codec entry gives no device_type (e.g. temp, pulse)"] };
  }
  // The decoder keeps each device's configuration (0x10) frames, which later frames of
  // some products need (Pulse 3 and 4 history): SMATI gives the device as input.device.
  var devId = (input.device || "device") + "/" + deviceType + "@" + network;
  adeunisDecoder.setDeviceType(deviceType, devId);
  var content = adeunisDecoder.decode(adeunisHex(input.bytes), devId, network);
  if (content.type === "Invalid" || content.type === "Unsupported") {
    return { errors: [content.type + " frame for an Adeunis " + deviceType] };
  }
  if (content.error) {
    return { errors: [String(content.error)] };
  }
  return { data: content };
}
