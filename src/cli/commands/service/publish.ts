import { TsswarmError } from '../../../errors/index.js';
import type { PortConfig } from '../../../objects/index.js';

function invalid(value: string, reason: string): TsswarmError {
  return new TsswarmError('SERVICE_INVALID_OPTION', { option: '--publish', value: JSON.stringify(value), reason });
}

function port(value: string, text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw invalid(value, `the ${what} port ${JSON.stringify(text)} is not a number (port ranges are not supported)`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw invalid(value, `the ${what} port ${n} is not in 1-65535`);
  return n;
}

function protocol(value: string, text: string): PortConfig['protocol'] {
  const p = text.toLowerCase();
  if (p === 'tcp') return 'TCP';
  if (p === 'udp') return 'UDP';
  throw invalid(value, `the protocol ${JSON.stringify(text)} is not tcp or udp`);
}

function mode(value: string, text: string): PortConfig['publishMode'] {
  const m = text.toLowerCase();
  if (m === 'ingress') return 'INGRESS';
  if (m === 'host') return 'HOST';
  throw invalid(value, `the mode ${JSON.stringify(text)} is not ingress or host`);
}

/**
 * Parses one `-p` value the way the docker CLI does: the long form
 * `published=8080,target=80[,protocol=udp][,mode=host]` or the short form
 * `[PUBLISHED:]TARGET[/PROTOCOL]` (`8080:80`, `8080:80/udp`, `80`). A port left unpublished
 * (0) is picked by the managers. Throws SERVICE_INVALID_OPTION.
 */
export function parsePublish(value: string): PortConfig {
  const result: PortConfig = { name: '', protocol: 'TCP', targetPort: 0, publishedPort: 0, publishMode: 'INGRESS' };
  if (value.includes('=')) {
    for (const field of value.split(',')) {
      const eq = field.indexOf('=');
      if (eq < 0) throw invalid(value, `${JSON.stringify(field)} is not KEY=VALUE`);
      const key = field.slice(0, eq).trim().toLowerCase();
      const v = field.slice(eq + 1).trim();
      if (key === 'published') result.publishedPort = port(value, v, 'published');
      else if (key === 'target') result.targetPort = port(value, v, 'target');
      else if (key === 'protocol') result.protocol = protocol(value, v);
      else if (key === 'mode') result.publishMode = mode(value, v);
      else throw invalid(value, `unknown key ${JSON.stringify(key)} (the keys are published, target, protocol, mode)`);
    }
    if (result.targetPort === 0) throw invalid(value, 'it names no target port (target=PORT)');
    return result;
  }
  const match = /^(?:([^:/]*):)?([^:/]+)(?:\/([^:/]+))?$/.exec(value);
  if (match === null) throw invalid(value, 'it is neither published=P,target=T[,protocol=udp][,mode=host] nor [PUBLISHED:]TARGET[/PROTOCOL]');
  const [, published, target, proto] = match;
  result.targetPort = port(value, target!, 'target');
  if (published !== undefined && published !== '') result.publishedPort = port(value, published, 'published');
  if (proto !== undefined) result.protocol = protocol(value, proto);
  return result;
}

/** `--publish-rm` takes a published port, optionally with its protocol ("8080", "53/udp"). */
export function parsePublishRemoval(value: string): { publishedPort: number; protocol?: PortConfig['protocol'] } {
  const match = /^(\d+)(?:\/(\w+))?$/.exec(value);
  if (match === null) throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--publish-rm', value: JSON.stringify(value), reason: 'it is a published port, e.g. 8080 or 53/udp' });
  const publishedPort = port(value, match[1]!, 'published');
  return match[2] === undefined ? { publishedPort } : { publishedPort, protocol: protocol(value, match[2]) };
}
