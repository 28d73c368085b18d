import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toAlbResult } from '#lib/http/alb.ts';

describe('toAlbResult', () => {
  const response = {
    statusCode: 422,
    headers: { 'content-type': 'application/problem+json', 'x-frame-options': 'DENY' },
    body: '{"status":422}',
  };

  it('answers with the status, its description and the headers', () => {
    assert.deepEqual(toAlbResult(response, false), {
      statusCode: 422,
      statusDescription: '422 Unprocessable Content',
      headers: { 'content-type': 'application/problem+json', 'x-frame-options': 'DENY' },
      body: '{"status":422}',
      isBase64Encoded: false,
    });
  });

  it('puts every header in multiValueHeaders when the target group has multi-value headers on', () => {
    const result = toAlbResult(response, true);
    assert.equal(result.headers, undefined);
    assert.deepEqual(result.multiValueHeaders, {
      'content-type': ['application/problem+json'],
      'x-frame-options': ['DENY'],
    });
  });
});
