// live-client.mjs - a WebSocket viewer of the hub's live endpoint for tests
// and benchmarks: logs in with the session cookie, parses the 9-byte header
// of every binary message, and keeps what it receives: the text messages,
// and every init segment with its picture size (read from the binary init
// segment's avc1 entry, not taken from the text) and the stream it starts.

import WebSocket from 'ws';

export class LiveViewer {
  // client: a logged-in harness Client; id: the doorbell. localAddress:
  // connect from this loopback address (default: the client's).
  // quality / prefer: the ?quality= and ?prefer= of the URL (none: the hub's default).
  constructor(client, id, { paused = false, origin, localAddress = client.localAddress, quality = null, prefer = null } = {}) {
    const url = new URL(`/api/v1/devices/${id}/live`, client.baseUrl);
    url.protocol = 'wss:';
    if (quality) url.searchParams.set('quality', quality);
    if (prefer) url.searchParams.set('prefer', prefer);
    this.messages = [];   // { kind, captureUs, bytes, receivedAt, init (index in inits of the init it follows) }
    this.texts = [];      // parsed JSON text messages
    this.inits = [];      // { text (its "init" message), width, height, at (index in messages) }
    this.initText = null;
    this.socket = new WebSocket(url, {
      rejectUnauthorized: false,
      ...(localAddress ? { localAddress, family: 4 } : {}),
      headers: {
        Origin: origin || new URL(client.baseUrl).origin,
        Cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', resolve);
      this.socket.once('error', reject);
      this.socket.once('unexpected-response', (_, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    });
    this.closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        const json = JSON.parse(data.toString());
        if (json.type === 'init') this.initText = json;
        this.texts.push(json);
        return;
      }
      const buffer = Buffer.from(data);
      const message = {
        kind: buffer[0],
        captureUs: Number(buffer.readBigUInt64BE(1)),
        bytes: buffer.subarray(9),
        receivedAt: Date.now(),
        init: this.inits.length - (buffer[0] === 1 ? 0 : 1),
      };
      if (message.kind === 1) this.inits.push({ text: this.initText, ...initPictureSize(message.bytes), at: this.messages.length });
      this.messages.push(message);
    });
    if (paused) this.pause();
  }

  // Send a text message (a quality choice: { quality, prefer }).
  send(json) { this.socket.send(JSON.stringify(json)); }

  // The stream the last init segment started ('main' | 'sub'), and its size.
  get stream() { return this.inits.length ? this.inits.at(-1).text?.stream ?? null : null; }
  get size() { return this.inits.length ? `${this.inits.at(-1).width}x${this.inits.at(-1).height}` : null; }

  // Messages of the init segment at index `init` (its own and what follows it).
  messagesOf(init) { return this.messages.filter((m) => m.init === init); }

  // Stop reading from the socket: the hub's writes back up (a stalled viewer).
  pause() { this.socket.pause(); }
  resume() { this.socket.resume(); }

  videoFrames() { return this.messages.filter((m) => m.kind === 2); }
  audioPackets() { return this.messages.filter((m) => m.kind === 3); }

  // Everything received as one fMP4 file (init segments included).
  mp4() { return Buffer.concat(this.messages.map((m) => m.bytes)); }

  close() {
    this.socket.close();
    return this.closed;
  }
}

// Width and height of the avc1 sample entry of an init segment.
export function initPictureSize(bytes) {
  const at = bytes.indexOf(Buffer.from('avc1'));
  if (at < 4) return { width: 0, height: 0 };
  // After the type: reserved (6), data reference index (2), pre-defined and
  // reserved (16), then width and height (16 bits each).
  return { width: bytes.readUInt16BE(at + 4 + 24), height: bytes.readUInt16BE(at + 4 + 26) };
}
