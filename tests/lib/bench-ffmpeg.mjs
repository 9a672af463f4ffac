// bench-ffmpeg.mjs - the yardstick of the recording benchmark
// (bench/record.bench.mjs): N ffmpeg processes recording by copy into
// segments, one per stream, the way Frigate records a camera
// (`ffmpeg -f h264 -i tcp://...?listen -c copy -f segment ...`), fed bare
// H.264 over plain TCP by a replay sender (`doorbelld --replay FILE
// --replay-tcp 127.0.0.1:PORT,N`) on the same schedule as the hub's replay
// doorbells get over device links.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { BUILD, waitFor } from './harness.mjs';

// A process with its output kept (the last lines, for error messages).
function spawnKept(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const keep = (chunk) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 50) lines.splice(0, lines.length - 50);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, lines, exited };
}

// TCP ports in LISTEN state on this machine (/proc/net/tcp), without
// connecting: an ffmpeg `?listen` input takes the first connection as its input.
function listeningPorts() {
  const ports = new Set();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 3 && fields[3] === '0A') ports.add(parseInt(fields[1].split(':')[1], 16));
  }
  return ports;
}

// Stop a process: SIGTERM (or nothing when it is already gone), SIGKILL
// after graceMs. Resolves with how it ended.
async function stopKept(proc, graceMs = 20000) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
    await proc.exited;
    clearTimeout(timer);
  }
  return proc.exited;
}

// Whether a TCP port on 127.0.0.1 can be listened on now.
function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// The first of `count` consecutive free ports, tried from a random base.
async function freePorts(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (40000 - count));
    let free = true;
    for (let i = 0; i < count && free; i++) free = await portFree(base + i);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

// N ffmpeg recorders and their sender. dir receives one folder per stream.
// Resolves once every recorder has written its first segment.
export async function startFfmpegRecorders({ count, clip, dir, fps, size, segmentSeconds = 10 }) {
  const base = await freePorts(count);
  const recorders = [];
  for (let i = 0; i < count; i++) {
    const out = join(dir, `ffmpeg-${count}-${i}`);
    mkdirSync(out, { recursive: true });
    recorders.push({ dir: out, proc: spawnKept('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'h264', '-framerate', String(fps), '-i', `tcp://127.0.0.1:${base + i}?listen`,
      '-c', 'copy', '-f', 'segment', '-segment_time', String(segmentSeconds), '-reset_timestamps', '1',
      join(out, '%05d.mp4')]) });
  }
  // Every recorder listening before the sender connects (50 ffmpegs take a
  // while to start on a loaded machine).
  const ports = [...Array(count).keys()].map((i) => base + i);
  try {
    await waitFor(() => {
      const dead = recorders.find((r) => r.proc.child.exitCode !== null);
      if (dead) throw new Error(`ffmpeg exited: ${dead.proc.lines.join(' | ')}`);
      const listening = listeningPorts();
      return ports.every((port) => listening.has(port));
    }, { timeout: 60000 + count * 2000, interval: 250, what: `${count} ffmpeg recorders listening` });
  } catch (error) {
    await Promise.all(recorders.map((r) => stopKept(r.proc)));
    throw error;
  }
  const control = join(dir, `sender-${count}.sock`);
  const sender = spawnKept(join(BUILD, 'doorbelld'), ['--replay', clip, '--replay-tcp', `127.0.0.1:${base},${count}`,
    '--size', size, '--fps', String(fps), '--control', control]);
  const group = { recorders, sender, control };
  try {
    await waitFor(() => {
      if (sender.child.exitCode !== null) throw new Error(`TCP sender exited: ${sender.lines.join(' | ')}`);
      const dead = recorders.find((r) => r.proc.child.exitCode !== null);
      if (dead) throw new Error(`ffmpeg exited: ${dead.proc.lines.join(' | ')}`);
      return recorders.every((r) => existsSync(join(r.dir, '00000.mp4')));
    }, { timeout: 60000 + count * 1000, interval: 250, what: `${count} ffmpeg recorders writing` });
  } catch (error) {
    await stopFfmpegRecorders(group);
    throw error;
  }
  return group;
}

// CPU seconds of the ffmpeg recorders together, and of their sender:
// user + system time from /proc/PID/stat (10 ms ticks).
export function ffmpegCpuSeconds(group) {
  const ticks = (pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  return {
    recorders: group.recorders.reduce((sum, r) => sum + ticks(r.proc.child.pid), 0),
    sender: ticks(group.sender.child.pid),
  };
}

// Resident memory of the recorders together, in MiB (VmRSS).
export function ffmpegRssMegabytes(group) {
  return group.recorders.reduce((sum, r) => {
    const line = readFileSync(`/proc/${r.proc.child.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return sum + Number(line.split(/\s+/)[1]) / 1024;
  }, 0);
}

// Segments written so far over all recorders.
export function ffmpegSegmentCount(group) {
  return group.recorders.reduce((n, r) => n + readdirSync(r.dir).filter((f) => f.endsWith('.mp4')).length, 0);
}

// Stop the sender, then the recorders (which end at the end of their input).
export async function stopFfmpegRecorders(group) {
  await stopKept(group.sender);
  await Promise.all(group.recorders.map((r) => stopKept(r.proc)));
}
