import { describe, expect, it } from 'vitest';
import { gossipTopic, gossipTopics, ReqRespProtocol, reqRespProtocolId } from '../../../src/p2p/protocols.ts';

describe('p2p names', () => {
  it('puts the chain id and a version in every topic', () => {
    expect(gossipTopic('medchain-dev', 'tx')).toBe('/medchain/medchain-dev/tx/1');
    expect(gossipTopic('medchain-dev', 'block')).toBe('/medchain/medchain-dev/block/1');
    expect(gossipTopic('medchain-dev', 'vote')).toBe('/medchain/medchain-dev/vote/1');
    expect([...gossipTopics('c1').entries()]).toEqual([
      ['/medchain/c1/tx/1', 'tx'],
      ['/medchain/c1/block/1', 'block'],
      ['/medchain/c1/vote/1', 'vote'],
    ]);
  });

  it('puts the chain id and a version in every req/resp protocol', () => {
    expect(Object.values(ReqRespProtocol).map((p) => reqRespProtocolId('medchain-dev', p))).toEqual([
      '/medchain/medchain-dev/status/1',
      '/medchain/medchain-dev/blocks_by_range/1',
      '/medchain/medchain-dev/block_by_hash/1',
      '/medchain/medchain-dev/headers_by_range/1',
      '/medchain/medchain-dev/blob/1',
    ]);
  });

  it('keeps chains apart', () => {
    expect(gossipTopic('chain-a', 'tx')).not.toBe(gossipTopic('chain-b', 'tx'));
    expect(reqRespProtocolId('chain-a', 'status')).not.toBe(reqRespProtocolId('chain-b', 'status'));
  });

  it('refuses a chain id that would break the name', () => {
    expect(() => gossipTopic('a/b', 'tx')).toThrow(/chain id "a\/b"/);
    expect(() => reqRespProtocolId('', 'status')).toThrow(RangeError);
    expect(() => gossipTopic('UPPER', 'tx')).toThrow(RangeError);
  });
});
