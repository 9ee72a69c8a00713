import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../core/errors.js';

/**
 * Which addresses a callback may reach: public unicast ones, plus what the
 * allow-list names. The same rule request-filtering-agent applies when it
 * connects; checking literal IPs here refuses them already at enqueue.
 */
export class AddressPolicy {
  readonly allow: string[];

  constructor(allow: readonly string[] = []) {
    if (!Array.isArray(allow)) throw new ConfigError('callbacks.allow must be an array of IPs or CIDRs');
    for (const entry of allow) {
      if (typeof entry !== 'string' || (isIP(entry) === 0 && !ipaddr.isValidCIDR(entry))) {
        throw new ConfigError(`callbacks.allow: "${String(entry)}" is neither an IP address nor a CIDR`);
      }
    }
    this.allow = [...allow];
  }

  /** Why `address` (an IP literal) may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined {
    const parsed = ipaddr.process(address);
    if (this.allowed(address, parsed)) return undefined;
    const range = parsed.range();
    return range === 'unicast' ? undefined : `${address} is a ${range} address (add it to callbacks.allow to permit it)`;
  }

  private allowed(raw: string, parsed: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    return this.allow.some((entry) => {
      if (isIP(entry) !== 0) return entry === raw || ipaddr.process(entry).toString() === parsed.toString();
      const [network, bits] = ipaddr.parseCIDR(entry);
      return parsed.kind() === network.kind() && parsed.match([network, bits] as [typeof parsed, number]);
    });
  }
}
