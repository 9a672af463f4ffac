// proc.mjs - CPU and memory of a process from /proc, for benchmarks.

import { readFileSync, readdirSync } from 'node:fs';

// CPU seconds the process has used: user + system from /proc/PID/stat
// (includes threads that already exited; 10 ms ticks).
export function cpuSecondsTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// CPU seconds of the live threads, to the nanosecond (/proc/PID/task/*/schedstat).
// Use it over windows in which no thread of interest exits.
export function cpuSeconds(pid) {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited between readdir and read
    }
  }
  return total / 1e9;
}

// Resident memory in MiB.
export function rssMegabytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

// The memory figures of /proc/PID/status, in MiB: rss (VmRSS), peak (VmHWM,
// the highest VmRSS so far), anon (RssAnon: the heap, stacks and mappings of
// the process's own, without the shared libraries' pages).
export function memoryMegabytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM'), anon: field('RssAnon') };
}
