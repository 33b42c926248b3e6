import { describe, expect, it } from 'vitest';
import { parsePublish, parsePublishRemoval } from '../../src/cli/commands/service/publish.js';
import { codeOf } from '../support/errors.js';

describe('-p / --publish', () => {
  it.each([
    ['published=8080,target=80', { publishedPort: 8080, targetPort: 80, protocol: 'TCP', publishMode: 'INGRESS' }],
    ['published=53,target=53,protocol=udp,mode=host', { publishedPort: 53, targetPort: 53, protocol: 'UDP', publishMode: 'HOST' }],
    ['target=80', { publishedPort: 0, targetPort: 80 }],
    ['8080:80', { publishedPort: 8080, targetPort: 80, protocol: 'TCP' }],
    ['8080:80/udp', { publishedPort: 8080, targetPort: 80, protocol: 'UDP' }],
    ['80', { publishedPort: 0, targetPort: 80 }],
  ])('reads %s as Docker does', (value, expected) => {
    expect(parsePublish(value)).toMatchObject(expected);
  });

  it.each(['', 'published=8080', 'published=x,target=80', 'target=80,colour=red', '8080:80/sctp', '8080-8081:80-81', '0:80', '8080:70000', 'a:b:c', 'target=80,mode=mesh'])(
    'refuses %j with SERVICE_INVALID_OPTION',
    (value) => {
      expect(codeOf(() => parsePublish(value))).toBe('SERVICE_INVALID_OPTION');
    },
  );

  it('reads --publish-rm values', () => {
    expect(parsePublishRemoval('8080')).toEqual({ publishedPort: 8080 });
    expect(parsePublishRemoval('53/udp')).toEqual({ publishedPort: 53, protocol: 'UDP' });
    expect(codeOf(() => parsePublishRemoval('x'))).toBe('SERVICE_INVALID_OPTION');
  });
});
