import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { canonicalId, TRANSFER_ID_NAMESPACE, transferIds } from './transfer-ids.ts';

const a = '0190f0c4-7b1e-7a4c-9d2b-3c4d5e6f7a8b';
const b = '0190f0c4-7b1e-7a4c-9d2b-3c4d5e6f7a8c';

describe('derived transfer ids', () => {
  it('are the same for the same cause, every time (a redelivery names the same transfer)', () => {
    expect(transferIds.reward(a)).toBe(transferIds.reward(a));
    expect(transferIds.funding(a)).toBe(transferIds.funding(a));
    expect(transferIds.topup(a, 'key-1')).toBe(transferIds.topup(a, 'key-1'));
  });

  it('are pinned: the namespace and the names never change', () => {
    expect(TRANSFER_ID_NAMESPACE).toBe('7ae65834-db06-40bd-a510-8ccee30bccb1');
    expect(transferIds.reward(a)).toMatchInlineSnapshot(`"a6388e8d-8763-5425-b906-30aad4df1807"`);
    expect(transferIds.honeypotFunding(a)).toMatchInlineSnapshot(`"0c548341-6425-5cee-825a-baa2c8fea243"`);
    expect(transferIds.honeypotFee(a)).toMatchInlineSnapshot(`"10643a0e-61d0-5607-8cbb-040be8168a15"`);
  });

  it('are RFC 9562 version 5 UUIDs', () => {
    const id = transferIds.withdrawal(a);
    expect(validate(id)).toBe(true); // the RFC variant, and a version
    expect(version(id)).toBe(5);
    expect(id).toBe(id.toLowerCase());
  });

  it('differ by kind of cause for the same entity id', () => {
    const all = [
      transferIds.funding(a),
      transferIds.fee(a),
      transferIds.campaignReturn(a),
      transferIds.reward(a),
      transferIds.judgeFee(a),
      transferIds.honeypotFunding(a),
      transferIds.honeypotFee(a),
      transferIds.withdrawal(a),
      transferIds.bonus(a),
      transferIds.referral(a),
      transferIds.topup(a, a),
      transferIds.adjustment(a, a),
    ];
    expect(new Set(all).size).toBe(all.length);
  });

  it('differ by entity, and by idempotency key within one entity', () => {
    expect(transferIds.reward(a)).not.toBe(transferIds.reward(b));
    expect(transferIds.topup(a, 'k1')).not.toBe(transferIds.topup(a, 'k2'));
    expect(transferIds.topup(a, 'k1')).not.toBe(transferIds.topup(b, 'k1'));
    expect(transferIds.adjustment(a, 'k1')).not.toBe(transferIds.adjustment(b, 'k1'));
  });

  it('ignore the case of entity ids (one entity, one spelling) but not of idempotency keys', () => {
    expect(transferIds.reward(a.toUpperCase())).toBe(transferIds.reward(a));
    expect(transferIds.topup(a.toUpperCase(), 'Key')).toBe(transferIds.topup(a, 'Key'));
    expect(transferIds.topup(a, 'Key')).not.toBe(transferIds.topup(a, 'key'));
    expect(canonicalId('ABC')).toBe('abc');
  });
});
