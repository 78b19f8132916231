import { isIP } from 'node:net';

/**
 * Where a webhook may point: rules on the URL a company registers, and on each address its host
 * resolves to when a delivery is sent (sender.ts asks `addressRefusal` of every resolved address
 * and connects only to those, so a name that later resolves to an internal address is refused at
 * delivery, not only at registration). Pure: no DNS here.
 */

export const MAX_URL_LENGTH = 2048;

export interface UrlPolicy {
  /** Allow plain http and private addresses (development and tests; never in production). */
  allowPrivate: boolean;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

const refused = (reason: string): UrlCheck => ({ ok: false, reason });

/** Names that only ever mean this host or a private network, whatever DNS says. */
const LOCAL_SUFFIXES = ['localhost', 'local', 'internal', 'localdomain', 'home.arpa'];

/** Whether `raw` may be a webhook's URL, and why not. */
export function checkWebhookUrl(raw: string, policy: UrlPolicy): UrlCheck {
  if (raw.length > MAX_URL_LENGTH) return refused(`is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refused('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:')) {
    return refused('must use https');
  }
  if (url.username !== '' || url.password !== '') return refused('must not contain credentials');
  if (url.hash !== '') return refused('must not contain a fragment');
  if (policy.allowPrivate) return { ok: true, url };
  const reason = hostRefusal(url.hostname);
  return reason === null ? { ok: true, url } : refused(reason);
}

/** The IP address a URL's host spells literally (brackets removed), or null for a name. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? null : bare;
}

/** Why a URL's host (as `URL.hostname` spells it) may not receive webhooks, or null. */
export function hostRefusal(hostname: string): string | null {
  const literal = literalAddress(hostname);
  if (literal !== null) return addressRefusal(literal);
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === '') return 'has no host';
  if (LOCAL_SUFFIXES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`))) {
    return 'must not point at a local or internal host name';
  }
  if (!name.includes('.')) return 'must name a public host (a fully qualified domain name)';
  return null;
}

interface Range {
  prefix: number[];
  bits: number;
  why: string;
}

const v4 = (cidr: string, why: string): Range => {
  const [address, bits] = cidr.split('/');
  return { prefix: address!.split('.').map(Number), bits: Number(bits), why };
};

// IANA special-purpose IPv4 registry: nothing here is a company's public endpoint.
const V4_RANGES: Range[] = [
  v4('0.0.0.0/8', 'is an unspecified address'),
  v4('10.0.0.0/8', 'is a private address'),
  v4('100.64.0.0/10', 'is a shared (carrier-grade NAT) address'),
  v4('127.0.0.0/8', 'is a loopback address'),
  v4('169.254.0.0/16', 'is a link-local address (cloud metadata lives here)'),
  v4('172.16.0.0/12', 'is a private address'),
  v4('192.0.0.0/24', 'is an IETF protocol address'),
  v4('192.0.2.0/24', 'is a documentation address'),
  v4('192.88.99.0/24', 'is a 6to4 relay address'),
  v4('192.168.0.0/16', 'is a private address'),
  v4('198.18.0.0/15', 'is a benchmarking address'),
  v4('198.51.100.0/24', 'is a documentation address'),
  v4('203.0.113.0/24', 'is a documentation address'),
  v4('224.0.0.0/4', 'is a multicast address'),
  v4('240.0.0.0/4', 'is a reserved address'),
];

const v6 = (groups: number[], bits: number, why: string): Range => ({ prefix: groups, bits, why });

const V6_RANGES: Range[] = [
  v6([0, 0, 0, 0, 0, 0, 0, 0], 128, 'is an unspecified address'),
  v6([0, 0, 0, 0, 0, 0, 0, 1], 128, 'is a loopback address'),
  v6([0, 0, 0, 0, 0, 0], 96, 'is a deprecated IPv4-compatible address'),
  v6([0x64, 0xff9b, 1], 48, 'is a local-use NAT64 address'),
  v6([0x100, 0, 0, 0], 64, 'is a discard-only address'),
  v6([0x2001, 0], 32, 'is a Teredo address'),
  v6([0x2001, 0xdb8], 32, 'is a documentation address'),
  v6([0xfc00], 7, 'is a unique-local address'),
  v6([0xfe80], 10, 'is a link-local address'),
  v6([0xfec0], 10, 'is a site-local address'),
  v6([0xff00], 8, 'is a multicast address'),
];

function inRange(parts: number[], width: number, range: Range): boolean {
  let left = range.bits;
  for (let i = 0; left > 0; i++, left -= width) {
    const take = Math.min(width, left);
    const mask = ((1 << take) - 1) << (width - take);
    if (((parts[i] ?? 0) & mask) !== ((range.prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** The eight 16-bit groups of an IPv6 address (isIP already said it is one). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((group) => parseInt(group, 16)) : [];
  const front = parse(head);
  const back = parse(tail);
  const middle = tail === undefined ? [] : new Array<number>(8 - front.length - back.length).fill(0);
  return [...front, ...middle, ...back];
}

/** The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), or null. */
function embeddedIpv4(groups: number[]): string | null {
  const last32 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) return last32(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return last32(g6, g7);
  if (g0 === 0x2002) return last32(g1, g2);
  return null;
}

/** Why an IP address may not receive webhooks (not publicly routable), or null. */
export function addressRefusal(address: string): string | null {
  const family = isIP(address.split('%')[0]!);
  if (family === 4) {
    const parts = address.split('.').map(Number);
    if (parts.every((part) => part === 255)) return 'is the broadcast address';
    return V4_RANGES.find((range) => inRange(parts, 8, range))?.why ?? null;
  }
  if (family === 6) {
    const groups = ipv6Groups(address);
    const inner = embeddedIpv4(groups);
    if (inner !== null) return addressRefusal(inner);
    return V6_RANGES.find((range) => inRange(groups, 16, range))?.why ?? null;
  }
  return 'is not an IP address';
}
