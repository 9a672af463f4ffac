// flood-client.mjs - a connection flood in its own process (so that its
// thousands of sockets do not slow down the test's own event loop): COUNT
// TCP connections to 127.0.0.1:PORT from 127.0.0.2…127.0.0.9, half silent,
// half sending one byte a second, each reopened 2 s after the hub closes
// it. Runs until SECONDS have passed, then sends its counters to the parent
// (process.send) and exits.
//
// usage: node flood-client.mjs PORT COUNT SECONDS

import net from 'node:net';

const [port, count, seconds] = process.argv.slice(2).map(Number);
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const sockets = new Set();
const counters = { opened: 0, closedByHub: 0, errors: 0 };
let running = true;

function open(index) {
  if (!running) return;
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: SOURCES[index % SOURCES.length] });
  counters.opened++;
  sockets.add(socket);
  let timer = null;
  socket.on('connect', () => {
    if (index % 2 === 1) {
      let sent = 0;
      // The start of a TLS handshake record, then filler, a byte a second.
      timer = setInterval(() => socket.write(Buffer.from([sent++ === 0 ? 0x16 : 0x03])), 1000);
    }
  });
  socket.on('error', () => { counters.errors++; });
  socket.on('close', () => {
    clearInterval(timer);
    sockets.delete(socket);
    if (!running) return;
    counters.closedByHub++;
    setTimeout(() => open(index), 2000);
  });
}

for (let i = 0; i < count; i++) open(i);
setTimeout(() => {
  running = false;
  for (const socket of sockets) socket.destroy();
  process.send(counters, () => process.exit(0));
}, seconds * 1000);
