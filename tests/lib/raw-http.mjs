// raw-http.mjs - HTTP/1.1 over TLS byte by byte, for tests that must send
// what no well-behaved client library would (hostile lengths, pipelined
// requests, HEAD on a kept-alive connection, unmasked WebSocket frames) and
// see exactly what the hub sends back.

import tls from 'node:tls';

// Open a TLS connection to the hub; resolves with the socket.
export function rawConnect(port) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

// Everything the hub sends until it closes the connection (or `timeoutMs`
// passes, then what arrived so far and timedOut: true).
export function readUntilClose(socket, timeoutMs = 20000) {
  return new Promise((resolve) => {
    const chunks = [];
    const finish = (timedOut) => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), timedOut });
    };
    const timer = setTimeout(() => { socket.destroy(); finish(true); }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => finish(false));
    socket.on('error', () => {});
  });
}

// Split a byte stream into HTTP responses. A response without
// Content-Length takes the rest of the stream, except for HEAD requests and
// 1xx/204/304, which have no body. `heads` says which responses answer HEAD.
export function parseResponses(data, heads = []) {
  const responses = [];
  let offset = 0;
  while (offset < data.length) {
    const end = data.indexOf('\r\n\r\n', offset);
    if (end < 0) break;
    const lines = data.subarray(offset, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let bodyEnd;
    const head = heads[responses.length] === true;
    if (head || status < 200 || status === 204 || status === 304) bodyEnd = end + 4;
    else if (headers['content-length'] !== undefined) bodyEnd = end + 4 + Number(headers['content-length']);
    else bodyEnd = data.length;
    responses.push({ status, headers, body: data.subarray(end + 4, Math.min(bodyEnd, data.length)) });
    offset = bodyEnd;
  }
  return { responses, trailing: data.subarray(Math.min(offset, data.length)) };
}

// Send raw bytes on a new connection; resolves with the parsed responses.
export async function rawExchange(port, bytes, { heads = [], timeoutMs } = {}) {
  const socket = await rawConnect(port);
  const reading = readUntilClose(socket, timeoutMs);
  socket.write(bytes);
  const { data, timedOut } = await reading;
  return { ...parseResponses(data, heads), data, timedOut };
}
