import { describe, expect, it } from 'vitest';
import { addressRefusal, checkWebhookUrl, hostRefusal, MAX_URL_LENGTH } from './url-policy.ts';

const strict = { allowPrivate: false };
const reasonOf = (url: string, policy = strict) => {
  const check = checkWebhookUrl(url, policy);
  return check.ok ? null : check.reason;
};

describe('webhook URL policy', () => {
  it('accepts a public https URL with a port, path and query', () => {
    expect(reasonOf('https://hooks.example.com:8443/tessera?team=7')).toBeNull();
  });

  it('refuses plain http unless private addresses are allowed (tests, development)', () => {
    expect(reasonOf('http://hooks.example.com/')).toBe('must use https');
    expect(reasonOf('http://127.0.0.1:4000/hook', { allowPrivate: true })).toBeNull();
    expect(reasonOf('ftp://hooks.example.com/', { allowPrivate: true })).toBe('must use https');
  });

  it('refuses credentials, fragments, junk and URLs over 2048 characters', () => {
    expect(reasonOf('https://user:pass@hooks.example.com/')).toBe('must not contain credentials');
    expect(reasonOf('https://user@hooks.example.com/')).toBe('must not contain credentials');
    expect(reasonOf('https://hooks.example.com/#x')).toBe('must not contain a fragment');
    expect(reasonOf('not a url')).toBe('is not an absolute URL');
    const long = `https://hooks.example.com/${'a'.repeat(MAX_URL_LENGTH)}`;
    expect(reasonOf(long)).toBe(`is longer than ${MAX_URL_LENGTH} characters`);
  });

  it.each([
    ['https://10.0.0.1/', 'is a private address'],
    ['https://172.20.1.1/', 'is a private address'],
    ['https://192.168.1.10/', 'is a private address'],
    ['https://127.0.0.1/', 'is a loopback address'],
    ['https://2130706433/', 'is a loopback address'], // the URL parser turns it into 127.0.0.1
    ['https://0x7f.1/', 'is a loopback address'],
    ['https://169.254.169.254/latest/meta-data', 'is a link-local address (cloud metadata lives here)'],
    ['https://100.100.100.200/', 'is a shared (carrier-grade NAT) address'],
    ['https://0.0.0.0/', 'is an unspecified address'],
    ['https://255.255.255.255/', 'is the broadcast address'],
    ['https://[::1]/', 'is a loopback address'],
    ['https://[::]/', 'is an unspecified address'],
    ['https://[fe80::1]/', 'is a link-local address'],
    ['https://[fd00:ec2::254]/', 'is a unique-local address'],
    ['https://[::ffff:127.0.0.1]/', 'is a loopback address'],
    ['https://[::ffff:a9fe:a9fe]/', 'is a link-local address (cloud metadata lives here)'],
    ['https://[64:ff9b::10.0.0.1]/', 'is a private address'],
    ['https://[2002:c0a8:0101::1]/', 'is a private address'],
    ['https://localhost/', 'must not point at a local or internal host name'],
    ['https://LOCALHOST./', 'must not point at a local or internal host name'],
    ['https://api.localhost/', 'must not point at a local or internal host name'],
    ['https://metadata.google.internal/', 'must not point at a local or internal host name'],
    ['https://printer.local/', 'must not point at a local or internal host name'],
    ['https://intranet/', 'must name a public host (a fully qualified domain name)'],
  ])('refuses %s: %s', (url, reason) => {
    expect(reasonOf(url)).toBe(reason);
  });

  it('accepts public IPv4 and IPv6 literals, including public ones embedded in IPv6', () => {
    expect(reasonOf('https://8.8.8.8/')).toBeNull();
    expect(reasonOf('https://[2606:4700:4700::1111]/')).toBeNull();
    expect(reasonOf('https://[::ffff:8.8.8.8]/')).toBeNull();
    expect(addressRefusal('172.32.0.1')).toBeNull();
    expect(addressRefusal('172.15.255.255')).toBeNull();
  });

  it('judges resolved addresses (what the sender checks at delivery time)', () => {
    expect(addressRefusal('10.1.2.3')).toBe('is a private address');
    expect(addressRefusal('fe80::1%eth0')).toBe('is a link-local address');
    expect(addressRefusal('fc00::1')).toBe('is a unique-local address');
    expect(addressRefusal('93.184.215.14')).toBeNull();
    expect(addressRefusal('not-an-ip')).toBe('is not an IP address');
    expect(hostRefusal('hooks.example.com')).toBeNull();
  });
});
