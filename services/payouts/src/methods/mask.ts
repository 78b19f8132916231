/**
 * The forms of payout details that may be shown (in responses, to support): enough for the owner to
 * recognize a method, too little to pay into it. Computed once when a method is added and stored
 * beside the encrypted details; the details themselves are never shown again.
 */

/** `j***@example.com`: the first character of the local part and the domain. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const first = [...email.slice(0, at)][0] ?? '';
  return `${first}***@${email.slice(at + 1)}`;
}

/** `****1234`: the last four characters of an IBAN or account number. */
export function maskTail(value: string): string {
  return `****${value.slice(-4)}`;
}

/**
 * `0x12…abcd (polygon)`: the first two and the last four hex digits, and the chain (one address is
 * the same account on every EVM chain, so the chain is what tells two such methods apart).
 */
export function maskWallet(address: string, network: string): string {
  return `${address.slice(0, 4)}…${address.slice(-4)} (${network})`;
}
