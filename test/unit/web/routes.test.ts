// URLs of the web app (src/web/lib/routes.ts) and the search box's reading of its input (src/web/lib/search.ts).

import { describe, expect, it } from 'vitest';
import { hrefOf, parseRoute, type Route } from '../../../src/web/lib/routes.ts';
import { classifyQuery } from '../../../src/web/lib/search.ts';

const HASH = 'ab'.repeat(32);

describe('routes', () => {
  const routes: Route[] = [
    { page: 'home' },
    { page: 'patient' },
    { page: 'doctor' },
    { page: 'hospital' },
    { page: 'identities' },
    { page: 'explorer' },
    { page: 'validators' },
    { page: 'block', id: '42' },
    { page: 'block', id: HASH },
    { page: 'tx', id: HASH },
    { page: 'account', id: HASH },
    { page: 'record', id: HASH },
    { page: 'search', query: 'a b&c=d/é' },
  ];
  it.each(routes)('%j survives hrefOf then parseRoute', (route) => {
    const url = new URL(hrefOf(route), 'http://node.example');
    expect(parseRoute(url.pathname, url.search)).toEqual(route);
  });

  it.each([
    '/nope',
    '/explorer/blocks/-1',
    '/explorer/blocks/12345678901',
    '/explorer/tx/abc',
    '/explorer/accounts/' + 'zz'.repeat(32),
    '/explorer/records/' + HASH + '/more',
    '/explorer/%E0%A4%A',
    '/rpc',
    '/explorer/blocks/<script>',
  ])('%s is not found', (path) => {
    expect(parseRoute(path).page).toBe('notFound');
  });

  it('accepts upper-case hex and a trailing slash', () => {
    expect(parseRoute(`/explorer/tx/${HASH.toUpperCase()}/`)).toEqual({ page: 'tx', id: HASH });
  });
});

describe('classifyQuery', () => {
  it.each([
    ['42', { kind: 'height', height: 42 }],
    [' #7 ', { kind: 'height', height: 7 }],
    [HASH, { kind: 'hash', hex: HASH }],
    [`0x${HASH.toUpperCase()}`, { kind: 'hash', hex: HASH }],
    ['d75a-9801-82b1-0ab7', { kind: 'fingerprint', prefix: 'd75a980182b10ab7' }],
    ['D75A980182B10AB7', { kind: 'fingerprint', prefix: 'd75a980182b10ab7' }],
  ])('%s', (text, expected) => {
    expect(classifyQuery(text)).toEqual(expected);
  });

  it.each(['', '   ', '99999999999', 'abc', 'Alice', '<img src=x>', HASH + '00'])('%j is refused with a reason', (text) => {
    const result = classifyQuery(text);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.why).toMatch(/\.$/);
  });
});
