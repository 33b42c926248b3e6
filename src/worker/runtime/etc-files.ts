/**
 * The /etc/hosts and /etc/resolv.conf a task sees (bind-mounted over the host's inside its
 * mount namespace), built as Docker builds them for a container.
 */

export function taskHostsFile(hostname: string): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    // The task's own name resolves to itself, as in a container.
    `127.0.1.1\t${hostname}`,
    '',
  ].join('\n');
}

/** Docker's fallback when the host has only loopback resolvers, which a task cannot reach. */
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * The host's resolv.conf without loopback nameservers (a task's loopback is its own), as
 * Docker filters it; its public fallback when nothing is left.
 */
export function taskResolvConf(hostResolvConf: string): string {
  const out: string[] = [];
  let servers = 0;
  for (const line of hostResolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m !== null) {
      const addr = m[1] ?? '';
      if (addr.startsWith('127.') || addr === '::1') continue;
      servers++;
    }
    if (line.trim() !== '') out.push(line);
  }
  if (servers === 0) for (const s of FALLBACK_NAMESERVERS) out.push(`nameserver ${s}`);
  return `${out.join('\n')}\n`;
}
