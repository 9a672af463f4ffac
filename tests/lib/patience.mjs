// patience.mjs - timeouts for waits that depend on how busy the machine is.
// A wait for a condition (waitFor) must not fail a test because other work
// shares the CPUs: a timeout given for an idle machine is stretched by the
// load per core at the time of the call. Tests stay correct either way, as
// they wait for a condition and never for the time itself. Pure function of
// os.loadavg(); no state.

import os from 'node:os';

// How many times longer than on an idle machine things may take now: the
// 1-minute load average per CPU, at least 1 and at most 8.
export function slowdown() {
  const perCpu = os.loadavg()[0] / Math.max(1, os.cpus().length);
  return Math.min(8, Math.max(1, perCpu));
}

// ms (a timeout for an idle machine) scaled by slowdown(), in whole ms.
export function patience(ms) {
  return Math.round(ms * slowdown());
}
