// Which process listens on a TCP port, for the message that refuses a second service on it. Linux only
// (/proc/net/tcp{,6} gives the listening socket's inode, /proc/<pid>/fd links name the socket's owner);
// elsewhere, or without permission to look, the answer says so instead.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const LISTEN = '0A';

/** Inodes of sockets listening on `port`, from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== LISTEN) continue;
      const local = f[1];
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && f[9] !== '0') inodes.add(f[9]);
    }
  }
  return inodes;
}

function commandLine(pid: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const text = argv.join(' ');
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return '';
  }
}

/** "pid 1234 (node bin/flashsale.js serve)", several joined, or a sentence saying why it is not known. */
export function describePortHolder(port: number): string {
  if (process.platform !== 'linux') return 'another process (finding which needs Linux /proc; try `lsof -i :' + port + '`)';
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return 'another process (no listening socket found in /proc/net/tcp: it may have just gone)';
  const holders: string[] = [];
  let unreadable = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      unreadable++;
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) {
        const cmd = commandLine(pid);
        holders.push(`pid ${pid}${pid === String(process.pid) ? ' (this process)' : ''}${cmd ? ` (${cmd})` : ''}`);
        break;
      }
    }
  }
  if (holders.length > 0) return holders.join(', ');
  return `another process (its owner is not visible${unreadable > 0 ? ` to this user: ${unreadable} processes could not be inspected; try as root or \`ss -ltnp\`` : ''})`;
}
