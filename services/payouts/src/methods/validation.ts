import { accept, type Decision, reject, refuse } from '@tessera/service-kit';
import {
  electronicFormatIBAN,
  getCountrySpecifications,
  validateIBAN,
  ValidationErrorsIBAN,
} from 'ibantools';
import { checksumAddress, isAddress } from 'viem';
import { z } from 'zod';
import type { MethodType } from '../db/schema.ts';
import { maskEmail, maskTail, maskWallet } from './mask.ts';

/**
 * What a payout method's details must be, checked field by field (pure). The HTTP schema checks
 * the shape (400 VALIDATION_FAILED); these checks say which field is wrong with a stable code each
 * (422). Nothing here echoes a value back: a detail says what to fix, not what was sent.
 */

/** USDC on these EVM chains; an address is the same 20-byte account on each of them. */
export const NETWORKS = ['ethereum', 'polygon', 'base', 'arbitrum', 'optimism'] as const;
export type Network = (typeof NETWORKS)[number];

export const METHOD_TYPES = [
  'paypal',
  'bank_transfer',
  'crypto_usdc',
] as const satisfies readonly MethodType[];

/** What a user sends (after the HTTP schema), one shape per type. */
export type MethodInput =
  | { type: 'paypal'; email: string }
  | { type: 'bank_transfer'; account_name: string; iban: string }
  | {
      type: 'bank_transfer';
      account_name: string;
      account_number: string;
      routing_number: string;
      country: string;
    }
  | { type: 'crypto_usdc'; wallet_address: string; network: Network };

/** The details as stored (encrypted) and handed to a provider: normalized, the input's field names. */
export type MethodDetails =
  | { email: string }
  | { account_name: string; iban: string }
  | { account_name: string; account_number: string; routing_number: string; country: string }
  | { wallet_address: string; network: Network };

/** A method that passed every check: its normalized details and the form shown of them. */
export interface ValidMethod {
  type: MethodType;
  details: MethodDetails;
  masked: string;
}

/** The stable codes of the field checks (all 422). */
export const fieldCodes = {
  email: 'INVALID_EMAIL',
  iban: 'INVALID_IBAN',
  accountNumber: 'INVALID_ACCOUNT_NUMBER',
  routingNumber: 'INVALID_ROUTING_NUMBER',
  country: 'INVALID_COUNTRY',
  walletAddress: 'INVALID_WALLET_ADDRESS',
  walletChecksum: 'INVALID_WALLET_CHECKSUM',
  walletNotChecksummed: 'WALLET_ADDRESS_NOT_CHECKSUMMED',
} as const;

const invalidField = (code: string, field: string, detail: string) =>
  reject(refuse.unprocessable(code, detail, { errors: [{ path: `body.${field}`, message: detail }] }));

/** Spaces and dashes people type into account numbers go; letters are upper-cased. */
const compact = (value: string) => value.replace(/[\s-]/g, '').toUpperCase();

// ---- PayPal ---------------------------------------------------------------------------------------

const emailSchema = z.email();

/** An address PayPal can pay: RFC 5321 lengths, a practical syntax; the domain lower-cased. */
export function checkEmail(value: string): Decision<string> {
  const email = value.trim();
  const at = email.lastIndexOf('@');
  if (email.length > 254 || at < 1 || at > 64 || !emailSchema.safeParse(email).success) {
    return invalidField(fieldCodes.email, 'email', 'Give the email address of your PayPal account.');
  }
  return accept(`${email.slice(0, at)}@${email.slice(at + 1).toLowerCase()}`);
}

// ---- bank transfer --------------------------------------------------------------------------------

const IBAN_PROBLEMS: Partial<Record<ValidationErrorsIBAN, string>> = {
  [ValidationErrorsIBAN.NoIBANCountry]: 'it does not start with a country that has IBANs',
  [ValidationErrorsIBAN.WrongBBANLength]: "it has the wrong length for its country's IBANs",
  [ValidationErrorsIBAN.WrongBBANFormat]: "it does not have its country's IBAN format",
  [ValidationErrorsIBAN.ChecksumNotNumber]: 'its check digits (3rd and 4th characters) are not digits',
  [ValidationErrorsIBAN.WrongIBANChecksum]: 'its check digits do not match (a typo?)',
  [ValidationErrorsIBAN.WrongAccountBankBranchChecksum]: 'its national account check digits do not match',
  [ValidationErrorsIBAN.QRIBANNotAllowed]:
    'a Swiss QR-IBAN only receives QR-bill payments; give your account IBAN',
};

/**
 * An IBAN (ISO 13616): spaces and dashes allowed, any case; the country's length and format and
 * the mod-97 check digits (ibantools). A Swiss/Liechtenstein QR-IBAN is refused: it cannot receive
 * a plain credit transfer.
 */
export function checkIban(value: string): Decision<string> {
  const iban = electronicFormatIBAN(value.trim()) ?? '';
  const result = validateIBAN(iban, { allowQRIBAN: false });
  if (!result.valid) {
    const why = result.errorCodes.map((code) => IBAN_PROBLEMS[code]).find(Boolean) ?? 'it is not an IBAN';
    return invalidField(fieldCodes.iban, 'iban', `This is not a valid IBAN: ${why}.`);
  }
  return accept(iban);
}

const COUNTRIES = new Set(Object.keys(getCountrySpecifications()));

/** An ISO 3166-1 alpha-2 code (any case; upper-cased), from ibantools' country list. */
export function checkCountry(value: string): Decision<string> {
  const country = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country) || !COUNTRIES.has(country)) {
    return invalidField(
      fieldCodes.country,
      'country',
      'Give the ISO 3166-1 alpha-2 code of the country (US, GB).',
    );
  }
  return accept(country);
}

/**
 * An ABA routing transit number: nine digits, a Federal Reserve prefix (01–12, 21–32, 61–72, 80;
 * 00 is the US government's own) and the checksum 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
 */
export function isAbaRoutingNumber(value: string): boolean {
  if (!/^\d{9}$/.test(value)) return false;
  const d = [...value].map(Number);
  const prefix = d[0]! * 10 + d[1]!;
  const known =
    (prefix >= 1 && prefix <= 12) || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72);
  if (!known && prefix !== 80) return false;
  const sum = 3 * (d[0]! + d[3]! + d[6]!) + 7 * (d[1]! + d[4]! + d[7]!) + (d[2]! + d[5]! + d[8]!);
  return sum % 10 === 0;
}

/**
 * The bank's routing code for the country: in the US an ABA routing number (checksum and all);
 * elsewhere the national code (a sort code, BSB, transit or IFSC code, a BIC): 3 to 20 letters and
 * digits, spaces and dashes ignored.
 */
export function checkRoutingNumber(country: string, value: string): Decision<string> {
  const routing = compact(value);
  if (country === 'US') {
    if (!isAbaRoutingNumber(routing)) {
      return invalidField(
        fieldCodes.routingNumber,
        'routing_number',
        'This is not a valid US routing number: nine digits whose checksum matches (a typo?).',
      );
    }
    return accept(routing);
  }
  if (!/^[A-Z0-9]{3,20}$/.test(routing)) {
    return invalidField(
      fieldCodes.routingNumber,
      'routing_number',
      "Give your bank's routing code (sort code, BSB, transit or IFSC code, or BIC): 3 to 20 letters and digits.",
    );
  }
  return accept(routing);
}

/** The account number: 4 to 17 digits in the US (ACH), 4 to 34 letters and digits elsewhere. */
export function checkAccountNumber(country: string, value: string): Decision<string> {
  const account = compact(value);
  const ok = country === 'US' ? /^\d{4,17}$/.test(account) : /^[A-Z0-9]{4,34}$/.test(account);
  if (!ok) {
    return invalidField(
      fieldCodes.accountNumber,
      'account_number',
      country === 'US'
        ? 'A US account number is 4 to 17 digits.'
        : 'An account number is 4 to 34 letters and digits.',
    );
  }
  return accept(account);
}

// ---- USDC on an EVM chain -------------------------------------------------------------------------

const ZERO_ADDRESS = /^0x0{40}$/;

/**
 * A 20-byte EVM address in its EIP-55 checksummed form, and only that: the checksum is what
 * catches a mistyped address, and money sent to a wrong one is gone for good.
 *
 * - not `0x` + 40 hex digits, or the zero address (it burns what it receives): INVALID_WALLET_ADDRESS;
 * - all lower- or all upper-case and not its own checksummed form: WALLET_ADDRESS_NOT_CHECKSUMMED.
 *   viem's `isAddress(a, { strict: true })` lets an all-lowercase address through (EIP-55: it
 *   carries no checksum), so this is checked first. (The rare addresses whose checksummed form is
 *   all one case, or has no letters, are accepted: they are their checksummed form.)
 * - mixed case whose checksum fails (`isAddress` strict): INVALID_WALLET_CHECKSUM.
 */
export function checkWalletAddress(value: string): Decision<string> {
  const address = value.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) {
    return invalidField(
      fieldCodes.walletAddress,
      'wallet_address',
      'A wallet address is 0x followed by 40 hexadecimal characters.',
    );
  }
  if (ZERO_ADDRESS.test(address)) {
    return invalidField(
      fieldCodes.walletAddress,
      'wallet_address',
      'The zero address cannot receive payouts: anything sent there is lost.',
    );
  }
  const hex = address.slice(2);
  const oneCase = hex === hex.toLowerCase() || hex === hex.toUpperCase();
  if (oneCase && checksumAddress(address as `0x${string}`) !== address) {
    return invalidField(
      fieldCodes.walletNotChecksummed,
      'wallet_address',
      'Give the address in its EIP-55 checksummed form (mixed case, as your wallet shows it): an address ' +
        'in one case cannot be checked for typos.',
    );
  }
  if (!isAddress(address, { strict: true })) {
    return invalidField(
      fieldCodes.walletChecksum,
      'wallet_address',
      'This address fails its EIP-55 checksum (its mix of upper and lower case): a character is wrong. ' +
        'Copy it again from your wallet.',
    );
  }
  return accept(address);
}

// ---- a whole method -------------------------------------------------------------------------------

/** Checks a method's fields in order (the first failure refuses) and gives its stored and shown forms. */
export function validateMethod(input: MethodInput): Decision<ValidMethod> {
  switch (input.type) {
    case 'paypal': {
      const email = checkEmail(input.email);
      if (!email.ok) return email;
      return accept({ type: 'paypal', details: { email: email.value }, masked: maskEmail(email.value) });
    }
    case 'bank_transfer': {
      const accountName = input.account_name.trim();
      if ('iban' in input) {
        const iban = checkIban(input.iban);
        if (!iban.ok) return iban;
        return accept({
          type: 'bank_transfer',
          details: { account_name: accountName, iban: iban.value },
          masked: maskTail(iban.value),
        });
      }
      const country = checkCountry(input.country);
      if (!country.ok) return country;
      const routing = checkRoutingNumber(country.value, input.routing_number);
      if (!routing.ok) return routing;
      const account = checkAccountNumber(country.value, input.account_number);
      if (!account.ok) return account;
      return accept({
        type: 'bank_transfer',
        details: {
          account_name: accountName,
          account_number: account.value,
          routing_number: routing.value,
          country: country.value,
        },
        masked: maskTail(account.value),
      });
    }
    case 'crypto_usdc': {
      const address = checkWalletAddress(input.wallet_address);
      if (!address.ok) return address;
      return accept({
        type: 'crypto_usdc',
        details: { wallet_address: address.value, network: input.network },
        masked: maskWallet(address.value, input.network),
      });
    }
  }
}
