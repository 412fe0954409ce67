// A codec that misbehaves on purpose, for the tests of the engine's limits: the first
// byte 1 loops forever, 2 allocates without end, 3 throws; any other is its own value.
function decodeUplink(input) {
  var first = input.bytes[0];
  if (first === 1) {
    while (true) {}
  }
  if (first === 2) {
    var kept = [];
    while (true) kept.push(new Array(100000).fill(first));
  }
  if (first === 3) {
    throw new TypeError("no decoder for frame 3");
  }
  return { data: { value: first } };
}
