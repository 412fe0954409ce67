// Dragino LHT65 temperature and humidity sensor, in the `decodeUplink(input)` format of
// The Things Stack and ChirpStack v4. Written for SMATI from the layout in Dragino's LHT65
// user manual ("Uplink Payload", 11 bytes on port 2), not from Dragino's own decoder:
//   0-1  battery: 2 status bits, then the voltage in mV (14 bits)
//   2-3  built-in SHT20 temperature, signed, 0.01 °C
//   4-5  built-in humidity, 0.1 %
//   6    external sensor type (1: DS18B20 temperature probe)
//   7-8  external temperature, signed, 0.01 °C (0x7FFF: no probe connected)
//   9-10 unused for the probe
var PROBE_ABSENT = 0x7fff;

function signed16(high, low) {
  var value = (high << 8) | low;
  return value > 0x7fff ? value - 0x10000 : value;
}

function decodeUplink(input) {
  var b = input.bytes;
  if (b.length !== 11) {
    return { errors: ["an LHT65 frame has 11 bytes, not " + b.length] };
  }
  var data = {
    BatV: (((b[0] << 8) | b[1]) & 0x3fff) / 1000,
    TempC_SHT: signed16(b[2], b[3]) / 100,
    Hum_SHT: ((b[4] << 8) | b[5]) / 10,
    Ext_sensor: b[6] & 0x7f
  };
  var probe = signed16(b[7], b[8]);
  if (data.Ext_sensor === 1 && probe !== PROBE_ABSENT) {
    data.TempC_DS = probe / 100;
  }
  return { data: data, warnings: [] };
}
