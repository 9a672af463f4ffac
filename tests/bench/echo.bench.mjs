// Echo attenuation: how far below `--echo-cancel off` the doorbell's own
// ding-dong is in what the hub records, with `aec` and with `duck`, through
// the simulated room (tests/lib/echo-room.mjs: --sim-room 25,-6, a 1500 Hz
// "visitor" in the ALSA file microphone, six presses, Goertzel per
// frequency over the hub's recording), and how far the visitor's median
// level moved. Prints one JSON line per mode; asserts nothing
// (tests/integration/echo.test.mjs asserts the bounds). scripts/bench.sh
// runs it BENCH_RUNS times and prints the medians.
//
//   cd tests && DOORSTEP_BUILD=$PWD/../build node bench/echo.bench.mjs

import { echoSession, ROOM } from '../lib/echo-room.mjs';
import { BUILD } from '../lib/harness.mjs';

const PRESSES = 6;
const off = await echoSession({ mode: 'off', presses: PRESSES });
for (const mode of ['aec', 'duck']) {
  const result = await echoSession({ mode, presses: PRESSES });
  console.log(JSON.stringify({
    figure: 'echo attenuation of the doorbell\'s own ding-dong against --echo-cancel off (dB)',
    mode, room: ROOM, presses: PRESSES, build: BUILD,
    value: Number((off.chimeDb - result.chimeDb).toFixed(1)),
    visitor_change_db: Number((result.visitorDb - off.visitorDb).toFixed(1)),
    converged: result.stats.converged, ducked_frames: result.stats.ducked_frames,
    reference_missing: result.stats.reference_missing,
  }));
}
