// Frame stamp reader and presented-frame monitor for the live player.
// The simulated doorbell draws a 64-bit stamp into every frame (64
// cells of 8x8 luma at x in [8+8i, 16+8i), y in [8, 16), 1 = luma 235,
// 0 = luma 16, bit 63 leftmost; bits 63..16 = capture ms mod 2^48, bits
// 15..0 = sequence mod 2^16, inside an 8-pixel black margin; docs/protocol.md,
// "Frame stamp"). FrameMonitor
// watches every presented frame (requestVideoFrameCallback, else polling on
// timeupdate), decodes the stamp from the top-left 528x24 source pixels at
// native resolution (or at half size: a sub-stream scaled from the camera)
// and reports { presentedMs, mediaTime, stamp } so the
// player can compute glass-to-glass latency. Real cameras have no stamp:
// then stamp is null and the monitor only probes now and then.

export const STAMP_W = 528;
export const STAMP_H = 24;
const THRESHOLD = 126;
const MOD48 = 2 ** 48;
// A VideoFrame timestamp this far (µs) from the reported media time is not
// the media time in microseconds at all (a browser's unit slip).
const TIMESTAMP_UNRELATED_US = 1e6;
// A frame callback this long (ms) after the frame's display time may find
// the next frame showing already: its stamp is read from a VideoFrame.
const LATE_CALLBACK_MS = 8;

function lumaAt(px, x, y) {
  const i = (y * STAMP_W + x) * 4;
  return 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
}

function meanLuma(px, x0, x1, y0, y1, step = 2) {
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y += step) for (let x = x0; x < x1; x += step) { sum += lumaAt(px, x, y); n++; }
  return sum / n;
}

/**
 * Decode the stamp from RGBA pixels of the 528x24 band. Returns
 * { captureMod48, sequence } or null when the black margin is missing or the
 * cells are not clearly black/white (a real picture, not a stamp).
 */
export function decodeStampPixels(px) {
  // The margin: rows 0-7 and 16-23, columns 0-7 and 520-527 of the band.
  // Sample away from the cell edges (codec ringing) and demand "dark".
  if (meanLuma(px, 0, STAMP_W, 1, 6) > 40 || meanLuma(px, 0, STAMP_W, 18, 23) > 40 ||
      meanLuma(px, 1, 6, 9, 15, 1) > 40 || meanLuma(px, 522, 527, 9, 15, 1) > 40) return null;
  let hi = 0;   // bits 63..32
  let lo = 0;   // bits 31..0
  for (let i = 0; i < 64; i++) {
    // centre 4x4 of cell i: x in [8+8i+2, 8+8i+6), y in [10, 14)
    let sum = 0;
    for (let dy = 10; dy < 14; dy++) for (let dx = 2; dx < 6; dx++) sum += lumaAt(px, 8 + 8 * i + dx, dy);
    const luma = sum / 16;
    if (luma > 80 && luma < 170) return null;   // neither black nor white: not a stamp
    const bit = luma > THRESHOLD ? 1 : 0;
    if (i < 32) hi = (hi * 2 + bit) >>> 0; else lo = (lo * 2 + bit) >>> 0;
  }
  // bits 63..16 (48 bits) = hi * 2^16 + (lo >>> 16); bits 15..0 = lo & 0xffff
  return { captureMod48: hi * 65536 + (lo >>> 16), sequence: lo & 0xffff };
}

/** The full capture time (ms since the epoch) nearest to nowMs for a value mod 2^48. */
export function unwrapCaptureMs(mod48, nowMs = Date.now()) {
  const base = nowMs - (nowMs % MOD48);
  let t = base + mod48;
  if (t - nowMs > MOD48 / 2) t -= MOD48;
  else if (nowMs - t > MOD48 / 2) t += MOD48;
  return t;
}

/**
 * Calls onFrame({ presentedMs, mediaTime, presentedFrames, width, height,
 * stamp: { captureMs, sequence } | null }) for every frame the video presents.
 */
export class FrameMonitor {
  constructor(video, onFrame) {
    this.video = video;
    this.onFrame = onFrame;
    this.canvas = null;
    this.ctx = null;
    this.handle = null;
    this.timer = null;
    this.stopped = true;
    this.missing = 0;          // frames in a row without a stamp
    this.count = 0;
    this.lastTime = -1;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    const video = this.video;
    if (typeof video.requestVideoFrameCallback === 'function') {
      const cb = (now, meta) => {
        if (this.stopped) return;
        this.handle = video.requestVideoFrameCallback(cb);
        const shown = typeof meta.expectedDisplayTime === 'number' ? meta.expectedDisplayTime : now;
        this.report(performance.timeOrigin + shown, meta.mediaTime, meta.presentedFrames, meta.width, meta.height,
          performance.now() - shown > LATE_CALLBACK_MS);
      };
      this.handle = video.requestVideoFrameCallback(cb);
    } else {
      // No rVFC (older Firefox): poll; a changed currentTime means a new frame.
      this.timer = setInterval(() => {
        if (video.paused || video.readyState < 2 || video.currentTime === this.lastTime) return;
        this.lastTime = video.currentTime;
        this.report(Date.now(), video.currentTime, null, video.videoWidth, video.videoHeight, false);
      }, 1000 / 60);
    }
  }

  stop() {
    this.stopped = true;
    if (this.handle !== null && typeof this.video.cancelVideoFrameCallback === 'function') {
      this.video.cancelVideoFrameCallback(this.handle);
    }
    this.handle = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  report(presentedMs, mediaTime, presentedFrames, width, height, late) {
    this.count++;
    // Stamps come in runs: read every frame while we see them; without one
    // (a real camera) probe only every 30th frame to keep the cost near zero.
    const probe = this.missing < 30 || this.count % 30 === 0;
    const stamp = !probe ? null : late ? this.readStampOf(mediaTime, width, height) : this.readStamp(width, height);
    this.missing = stamp ? 0 : this.missing + 1;
    this.onFrame({ presentedMs, mediaTime, presentedFrames, width, height, stamp });
  }

  /*
   * The stamp of the frame at mediaTime, or null. A callback that runs late
   * (a busy machine) may find the video already showing the next frame, and
   * reading it would pair one frame's stamp with another's time; where
   * WebCodecs' VideoFrame can take the picture with its own timestamp, a
   * picture that is not the reported one gives no stamp. Only for late
   * callbacks: the VideoFrame copy costs the page's main thread enough to
   * add 10 ms to glass-to-glass when done for every frame.
   */
  readStampOf(mediaTime, width, height) {
    if (typeof VideoFrame !== 'function' || typeof mediaTime !== 'number') return this.readStamp(width, height);
    let frame = null;
    try {
      frame = new VideoFrame(this.video);
    } catch {
      return this.readStamp(width, height);
    }
    try {
      const offsetUs = Math.abs(frame.timestamp - mediaTime * 1e6);
      // Firefox (153 ESR) gives a video's VideoFrame the media time in
      // whole seconds, not microseconds: a clock that far off says nothing
      // about which picture it is, so the picture is read as it is.
      if (offsetUs > 500 && offsetUs < TIMESTAMP_UNRELATED_US) return null;
      return this.readStamp(width, height, frame);
    } finally {
      frame.close();
    }
  }

  readStamp(width = this.video.videoWidth, height = this.video.videoHeight, source = this.video) {
    if (!(width >= STAMP_W && height >= STAMP_H)) return null;
    if (!this.ctx) {
      this.canvas = typeof OffscreenCanvas === 'function'
        ? new OffscreenCanvas(STAMP_W, STAMP_H)
        : Object.assign(document.createElement('canvas'), { width: STAMP_W, height: STAMP_H });
      this.ctx = this.canvas.getContext('2d', { willReadFrequently: true, alpha: false });
      if (!this.ctx) return null;
    }
    try {
      // Source rectangle in the video's own pixels, whatever its display size.
      this.ctx.drawImage(source, 0, 0, STAMP_W, STAMP_H, 0, 0, STAMP_W, STAMP_H);
      let decoded = decodeStampPixels(this.ctx.getImageData(0, 0, STAMP_W, STAMP_H).data);
      if (!decoded) {
        // A doorbell's sub-stream is its camera's picture scaled down by 2
        // (1280x720 -> 640x360): the stamp is there at half size.
        this.ctx.imageSmoothingEnabled = false;
        this.ctx.drawImage(source, 0, 0, STAMP_W / 2, STAMP_H / 2, 0, 0, STAMP_W, STAMP_H);
        this.ctx.imageSmoothingEnabled = true;
        decoded = decodeStampPixels(this.ctx.getImageData(0, 0, STAMP_W, STAMP_H).data);
      }
      if (!decoded) return null;
      const captureMs = unwrapCaptureMs(decoded.captureMod48);
      // A dark band that happens to decode is not a stamp: demand a sane time.
      if (Math.abs(Date.now() - captureMs) > 24 * 3600 * 1000) return null;
      return { captureMs, sequence: decoded.sequence };
    } catch {
      return null;   // not decodable yet, or a tainted canvas
    }
  }
}
