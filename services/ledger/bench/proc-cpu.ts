/**
 * CPU time of processes from /proc (Linux), so a benchmark can say which process a request's time
 * went to. A Postgres server is many processes (one backend per connection, the WAL writer, ...):
 * its figure is the postmaster's tree.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface Stat {
  ppid: number;
  /** utime + stime, ms. */
  own: number;
  /** cutime + cstime: children that exited and were waited for, ms. */
  reaped: number;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which may hold spaces: state ppid ... utime(12) stime(13) cutime cstime.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ms = (ticks: string | undefined) => (Number(ticks) / TICKS_PER_SECOND) * 1000;
  return {
    ppid: Number(fields[1]),
    own: ms(fields[11]) + ms(fields[12]),
    reaped: ms(fields[13]) + ms(fields[14]),
  };
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** CPU ms one process has used so far. */
export function processCpuMs(pid: number): number {
  return stat(pid)?.own ?? Number.NaN;
}

/** CPU ms a process and its children (living, and exited ones it reaped) have used so far. */
export function treeCpuMs(root: number): number {
  const top = stat(root);
  if (!top) return Number.NaN;
  let total = top.own + top.reaped;
  for (const pid of pids()) {
    const child = pid === root ? undefined : stat(pid);
    if (child?.ppid === root) total += child.own;
  }
  return total;
}

/** The first process whose arguments (argv) match, if any. */
export function findProcess(matches: (argv: string[]) => boolean): number | undefined {
  for (const pid of pids()) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (matches(argv)) return pid;
  }
  return undefined;
}
