// Which network addresses a webhook may reach. By default only public ones: loopback, private,
// link-local and other special ranges are refused (IPv4 and IPv6, IPv4 embedded in IPv6 — mapped
// ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96 — judged as the IPv4 address), unless
// ORIGINPULL_WEBHOOK_ALLOW names the class or a URL prefix for the host (webhook-allow.ts).
//
// The check runs where the connection is made: `guardedLookup` is the resolver handed to the
// socket, so the address connected to is the address checked (a name that resolves to a public
// address when saved and to 127.0.0.1 when sent — DNS rebinding — is refused at send time).
// tested in test/notify/webhook-address.test.ts
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';
/** The classes ORIGINPULL_WEBHOOK_ALLOW can open (reserved ranges never are). */
export const ALLOWABLE_CLASSES = ['loopback', 'private', 'link-local'] as const;
export type AllowableClass = (typeof ALLOWABLE_CLASSES)[number];

function list(v4: string[], v6: string[]): BlockList {
  const b = new BlockList();
  for (const cidr of v4) b.addSubnet(cidr.split('/')[0], Number(cidr.split('/')[1]), 'ipv4');
  for (const cidr of v6) b.addSubnet(cidr.split('/')[0], Number(cidr.split('/')[1]), 'ipv6');
  return b;
}

// 0.0.0.0/8 and :: reach this host on Linux, so they count as loopback.
const LOOPBACK = list(['127.0.0.0/8', '0.0.0.0/8'], ['::1/128', '::/128']);
const LINK_LOCAL = list(['169.254.0.0/16'], ['fe80::/10']);
const PRIVATE = list(
  ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '198.18.0.0/15', '192.0.0.0/24'],
  ['fc00::/7', 'fec0::/10'],
);
const RESERVED = list(['224.0.0.0/4', '240.0.0.0/4'], ['ff00::/8']);

/** The IPv4 address an IPv6 one carries (mapped, compatible, NAT64), or null. */
function embeddedV4(ip: string): string | null {
  const lower = ip.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(::ffff:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const hi = parseInt(hex[2], 16);
  const lo = parseInt(hex[3], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function addressClass(address: string): AddressClass {
  let ip = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  let family = isIP(ip);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const v4 = embeddedV4(ip);
    if (v4 !== null) {
      ip = v4;
      family = 4;
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (LOOPBACK.check(ip, type)) return 'loopback';
  if (LINK_LOCAL.check(ip, type)) return 'link-local';
  if (PRIVATE.check(ip, type)) return 'private';
  if (RESERVED.check(ip, type)) return 'reserved';
  if (family === 4 && ip === '255.255.255.255') return 'reserved';
  return 'public';
}

/** Public, or of a class the installation opened. */
export function addressAllowed(address: string, open: ReadonlySet<AllowableClass>): boolean {
  const cls = addressClass(address);
  return cls === 'public' || (cls !== 'reserved' && open.has(cls));
}

/** The error a refused address gives the socket (and postWebhook turns into words). */
export class WebhookAddressError extends Error {
  readonly code = 'ERR_WEBHOOK_ADDRESS';
  readonly address: string;
  readonly addressClass: AddressClass;
  constructor(host: string, address: string) {
    const cls = addressClass(address);
    super(`${host} resolves to ${address}, a ${cls} address this installation does not send webhooks to`);
    this.address = address;
    this.addressClass = cls;
  }
}

/**
 * A `lookup` for net/tls.connect that resolves like dns.lookup and refuses the connection when
 * any address of the name is not allowed (all of them: a name mixing public and private answers
 * must not get through on the private one).
 */
export function guardedLookup(open: ReadonlySet<AllowableClass>): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const denied = addresses.find((a) => !addressAllowed(a.address, open));
      if (denied) return callback(Object.assign(new WebhookAddressError(hostname, denied.address), { errno: undefined }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
