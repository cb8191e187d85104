import { BlockList, isIP } from 'node:net';

/** An address or CIDR range; IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) match IPv4 ranges and back. */
export class IpRange {
  private readonly list = new BlockList();

  constructor(readonly text: string) {
    const [address, prefix, extra] = text.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    const badPrefix = bits !== undefined && !(bits <= (family === 4 ? 32 : 128));
    if (family === 0 || badPrefix || extra !== undefined) {
      throw new Error(`not an IP address or CIDR range: ${text}`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) this.list.addAddress(address, type);
    else this.list.addSubnet(address, bits, type);
  }

  contains(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}
