// crash.mjs - kill -9 of the hub while a live viewer watches, and how much
// of what the hub had received did not reach the disk. Shared by the
// recording test (which asserts the bound) and bench/crash.bench.mjs (which
// measures its distribution).
//
// "What the hub had received" is read from a live viewer: every frame the
// hub forwarded to it, it had received. So the figure leaves out the
// doorbell's encoder and link (their delay under load is not footage the
// hub lost) and at most undercounts by the hub's in-process fan-out.

import { LiveViewer } from './live-client.mjs';
import { sleep, waitFor } from './harness.mjs';

// Watch the doorbell live, wait `delayMs`, SIGKILL the hub. Resolves with
// { killedAt, receivedUntilMs }: the wall clock of the kill and the end (in
// capture time, ms) of the last frame the hub had forwarded.
export async function killWhileWatched(hub, client, deviceId, delayMs) {
  const viewer = new LiveViewer(client, deviceId);
  await viewer.opened;
  await waitFor(() => viewer.videoFrames().length > 1, { what: 'live video before the kill' });
  await sleep(delayMs);
  const killedAt = Date.now();
  await hub.kill();
  await viewer.closed;
  const frames = viewer.videoFrames();
  const last = frames.at(-1).captureUs / 1000;
  const interval = last - frames.at(-2).captureUs / 1000;
  return { killedAt, receivedUntilMs: last + interval };
}

// Footage lost (ms) by a kill, from the recordings index read after the
// restart: received but not on disk; sinceKill is the older, coarser figure
// (from the moment of the kill, the doorbell's delay included).
export function footageLost(rows, kill) {
  const lastEnd = Math.max(...rows.filter((r) => r.start_ms < kill.killedAt).map((r) => r.end_ms));
  return { lost: Math.round(kill.receivedUntilMs - lastEnd), sinceKill: kill.killedAt - lastEnd };
}
