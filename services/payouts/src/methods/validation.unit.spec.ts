import type { Decision } from '@tessera/service-kit';
import { describe, expect, it } from 'vitest';
import { maskEmail, maskTail, maskWallet } from './mask.ts';
import {
  checkAccountNumber,
  checkCountry,
  checkEmail,
  checkIban,
  checkRoutingNumber,
  checkWalletAddress,
  isAbaRoutingNumber,
  validateMethod,
} from './validation.ts';

const accepted = <T>(decision: Decision<T>): T => {
  if (!decision.ok) throw new Error(`refused: ${decision.refusal.code} ${decision.refusal.message}`);
  return decision.value;
};
const refusedWith = (decision: Decision<unknown>) => {
  expect(decision.ok, 'expected a refusal').toBe(false);
  if (decision.ok) throw new Error('accepted');
  expect(decision.refusal.kind).toBe('unprocessable');
  return decision.refusal.code;
};

describe('PayPal emails', () => {
  it.each([
    ['jane.doe@example.com', 'jane.doe@example.com'],
    ['  Jane+payouts@Example.COM ', 'Jane+payouts@example.com'],
    ['a@b.co', 'a@b.co'],
  ])('accepts %j as %j (domain lower-cased)', (input, normalized) => {
    expect(accepted(checkEmail(input))).toBe(normalized);
  });

  it.each([
    '',
    'jane',
    'jane@',
    '@example.com',
    'jane@@example.com',
    'jane doe@example.com',
    'jane@example',
    `${'a'.repeat(65)}@example.com`,
    `jane@${'a'.repeat(250)}.com`,
    'jane@example.com\u0000',
  ])('refuses %j with INVALID_EMAIL', (input) => {
    expect(refusedWith(checkEmail(input))).toBe('INVALID_EMAIL');
  });
});

describe('IBANs', () => {
  it.each([
    ['NL91ABNA0417164300', 'NL91ABNA0417164300'],
    ['NL91 ABNA 0417 1643 00', 'NL91ABNA0417164300'],
    ['de89 3704 0044 0532 0130 00', 'DE89370400440532013000'],
    ['GB82-WEST-1234-5698-7654-32', 'GB82WEST12345698765432'],
    ['FR1420041010050500013M02606', 'FR1420041010050500013M02606'],
  ])('accepts %j as %j', (input, normalized) => {
    expect(accepted(checkIban(input))).toBe(normalized);
  });

  it.each([
    ['a wrong check digit', 'NL92ABNA0417164300', /check digits do not match/],
    ['two swapped digits', 'NL91ABNA0417163400', /check digits do not match/],
    ['a digit short', 'DE8937040044053201300', /wrong length/],
    ['no IBAN country', 'XX89370400440532013000', /country/],
    ['US (no IBANs)', 'US89370400440532013000', /country/],
    ['letters as check digits', 'NLAAABNA0417164300', /check digits/],
    ['a Swiss QR-IBAN', 'CH4431999123000889012', /QR-IBAN/],
    ['punctuation', 'NL91ABNA0417.164300', /./],
    ['empty', '', /./],
  ])('refuses %s with INVALID_IBAN and says why', (_, input, why) => {
    const decision = checkIban(input);
    expect(refusedWith(decision)).toBe('INVALID_IBAN');
    if (!decision.ok) {
      expect(decision.refusal.message).toMatch(why);
      expect(decision.refusal.extensions).toEqual({
        errors: [{ path: 'body.iban', message: decision.refusal.message }],
      });
      // A refusal says what to fix, never what was sent.
      if (input) expect(decision.refusal.message).not.toContain(input);
    }
  });
});

describe('US routing numbers (ABA)', () => {
  it.each(['021000021', '011000015', '111000025', '122105278', '026009593', '121000358'])(
    'accepts %s (checksum holds)',
    (routing) => {
      expect(isAbaRoutingNumber(routing)).toBe(true);
      expect(accepted(checkRoutingNumber('US', routing))).toBe(routing);
    },
  );

  it('ignores the spaces and dashes people type', () => {
    expect(accepted(checkRoutingNumber('US', '0210-0002 1'))).toBe('021000021');
  });

  it.each([
    ['a wrong last digit', '021000022'],
    ['two swapped digits', '012000021'],
    ['all zeros (checksum holds, no such prefix)', '000000000'],
    ['an unknown prefix', '402000020'],
    ['eight digits', '02100002'],
    ['ten digits', '0210000210'],
    ['letters', '02100002A'],
  ])('refuses %s with INVALID_ROUTING_NUMBER', (_, routing) => {
    expect(isAbaRoutingNumber(routing.replace(/[\s-]/g, ''))).toBe(false);
    expect(refusedWith(checkRoutingNumber('US', routing))).toBe('INVALID_ROUTING_NUMBER');
  });

  it('outside the US takes a national routing code of 3 to 20 letters and digits', () => {
    expect(accepted(checkRoutingNumber('GB', '60-16-13'))).toBe('601613');
    expect(accepted(checkRoutingNumber('IN', 'hdfc0000001'))).toBe('HDFC0000001');
    expect(refusedWith(checkRoutingNumber('GB', '12'))).toBe('INVALID_ROUTING_NUMBER');
    expect(refusedWith(checkRoutingNumber('GB', '60/16/13'))).toBe('INVALID_ROUTING_NUMBER');
  });
});

describe('account numbers and countries', () => {
  it('US account numbers are 4 to 17 digits', () => {
    expect(accepted(checkAccountNumber('US', '000123456789'))).toBe('000123456789');
    expect(refusedWith(checkAccountNumber('US', '123'))).toBe('INVALID_ACCOUNT_NUMBER');
    expect(refusedWith(checkAccountNumber('US', '1'.repeat(18)))).toBe('INVALID_ACCOUNT_NUMBER');
    expect(refusedWith(checkAccountNumber('US', '12345A'))).toBe('INVALID_ACCOUNT_NUMBER');
  });

  it('elsewhere 4 to 34 letters and digits', () => {
    expect(accepted(checkAccountNumber('GB', '3119 8475'))).toBe('31198475');
    expect(refusedWith(checkAccountNumber('GB', 'A'.repeat(35)))).toBe('INVALID_ACCOUNT_NUMBER');
  });

  it('countries are ISO 3166-1 alpha-2 codes', () => {
    expect(accepted(checkCountry('us'))).toBe('US');
    expect(accepted(checkCountry('GB'))).toBe('GB');
    for (const bad of ['USA', 'U', 'ZZ', 'XX', '12', '']) {
      expect(refusedWith(checkCountry(bad)), bad).toBe('INVALID_COUNTRY');
    }
  });
});

describe('EVM wallet addresses (EIP-55)', () => {
  // The test vectors of EIP-55: each is its own checksummed form.
  it.each([
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    // Checksummed forms that happen to be all one case.
    '0x52908400098527886E0F7030069857D2E4169EE7',
    '0xde709f2102306220921060314715629080e2fb77',
  ])('accepts the checksummed %s', (address) => {
    expect(accepted(checkWalletAddress(` ${address} `))).toBe(address);
  });

  it.each([
    ['the last character in the wrong case', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'],
    ['one character in the wrong case', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BEAed'],
    ['a mistyped digit (checksum no longer matches)', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAee'],
  ])('refuses %s with INVALID_WALLET_CHECKSUM', (_, address) => {
    expect(refusedWith(checkWalletAddress(address))).toBe('INVALID_WALLET_CHECKSUM');
  });

  it.each([
    ['all lowercase', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'],
    ['all uppercase', '0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED'],
  ])('refuses %s (no checksum to check) with WALLET_ADDRESS_NOT_CHECKSUMMED', (_, address) => {
    expect(refusedWith(checkWalletAddress(address))).toBe('WALLET_ADDRESS_NOT_CHECKSUMMED');
  });

  it.each([
    ['too short', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA'],
    ['too long', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00'],
    ['no 0x', '5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
    ['0X', '0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
    ['not hex', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg'],
    ['an ENS name', 'vitalik.eth'],
    ['the zero address', '0x0000000000000000000000000000000000000000'],
    ['empty', ''],
  ])('refuses %s with INVALID_WALLET_ADDRESS', (_, address) => {
    expect(refusedWith(checkWalletAddress(address))).toBe('INVALID_WALLET_ADDRESS');
  });
});

describe('a whole method', () => {
  it('normalizes the details and masks them', () => {
    expect(accepted(validateMethod({ type: 'paypal', email: 'Jane@Example.com' }))).toEqual({
      type: 'paypal',
      details: { email: 'Jane@example.com' },
      masked: 'J***@example.com',
    });
    expect(
      accepted(
        validateMethod({ type: 'bank_transfer', account_name: ' Jane Doe ', iban: 'nl91 abna 0417 1643 00' }),
      ),
    ).toEqual({
      type: 'bank_transfer',
      details: { account_name: 'Jane Doe', iban: 'NL91ABNA0417164300' },
      masked: '****4300',
    });
    expect(
      accepted(
        validateMethod({
          type: 'bank_transfer',
          account_name: 'Jane Doe',
          account_number: '000123456789',
          routing_number: '021000021',
          country: 'us',
        }),
      ),
    ).toEqual({
      type: 'bank_transfer',
      details: {
        account_name: 'Jane Doe',
        account_number: '000123456789',
        routing_number: '021000021',
        country: 'US',
      },
      masked: '****6789',
    });
    expect(
      accepted(
        validateMethod({
          type: 'crypto_usdc',
          wallet_address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
          network: 'polygon',
        }),
      ),
    ).toEqual({
      type: 'crypto_usdc',
      details: { wallet_address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', network: 'polygon' },
      masked: '0x5a…eAed (polygon)',
    });
  });

  it('checks a US account in order: country, routing number, account number', () => {
    const us = {
      type: 'bank_transfer' as const,
      account_name: 'J',
      account_number: '12',
      routing_number: '1',
      country: 'ZZ',
    };
    expect(refusedWith(validateMethod(us))).toBe('INVALID_COUNTRY');
    expect(refusedWith(validateMethod({ ...us, country: 'US' }))).toBe('INVALID_ROUTING_NUMBER');
    expect(refusedWith(validateMethod({ ...us, country: 'US', routing_number: '021000021' }))).toBe(
      'INVALID_ACCOUNT_NUMBER',
    );
  });
});

describe('masks', () => {
  it('show too little to pay into', () => {
    expect(maskEmail('jane@example.com')).toBe('j***@example.com');
    expect(maskEmail('j@example.com')).toBe('j***@example.com');
    expect(maskTail('NL91ABNA0417164300')).toBe('****4300');
    expect(maskWallet('0x1234567890123456789012345678901234abcd', 'base')).toBe('0x12…abcd (base)');
  });
});
