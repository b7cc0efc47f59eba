// `serve --http [HOST:]PORT`: the listen address from the command line, and whether a host is loopback
// (a loopback bind may run without auth; anything else may not).

import { isIP } from "node:net";

export interface ListenAddress {
  /** As `net.listen` takes it: IPv6 without brackets. */
  host: string;
  /** 0 means any free port. */
  port: number;
}

const USAGE = "give PORT (binds 127.0.0.1), HOST:PORT or [IPv6]:PORT, e.g. 8765, 127.0.0.1:0, 0.0.0.0:8765 or [::1]:8765";

export function parseListenAddress(text: string): ListenAddress {
  const value = text.trim();
  let host = "127.0.0.1";
  let port: string;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2]!;
    if (isIP(host) !== 6) throw new Error(`--http ${JSON.stringify(text)}: ${JSON.stringify(host)} is not an IPv6 address; ${USAGE}`);
  } else if (/^\d+$/.test(value)) {
    port = value;
  } else {
    const colon = value.lastIndexOf(":");
    if (colon <= 0) throw new Error(`--http ${JSON.stringify(text)}: ${USAGE}`);
    host = value.slice(0, colon);
    port = value.slice(colon + 1);
    if (host.includes(":")) throw new Error(`--http ${JSON.stringify(text)}: write an IPv6 address in brackets, e.g. [::1]:8765`);
    if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) throw new Error(`--http ${JSON.stringify(text)}: ${JSON.stringify(host)} is not a host name or address; ${USAGE}`);
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65_535) throw new Error(`--http ${JSON.stringify(text)}: the port must be a number from 0 to 65535; ${USAGE}`);
  return { host, port: n };
}

/** Hosts that only this machine can reach. Other names are not resolved: they count as reachable from outside. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A host as it appears in a URL or a Host header: IPv6 in brackets. */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * The `--http` option of `serve`: null when absent. Other options are refused, not ignored, so a typo
 * does not quietly serve stdio instead.
 */
export function httpListenFrom(args: string[]): string | null {
  let listen: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--http") {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("-")) throw new Error(`serve --http needs an address: ${USAGE}`);
      listen = next;
      i++;
    } else if (arg.startsWith("--http=")) {
      listen = arg.slice("--http=".length);
    } else {
      throw new Error(`serve: unknown option ${JSON.stringify(arg)}; the only option is --http [HOST:]PORT`);
    }
  }
  // Checked now, so a bad address stops the command before any database opens.
  if (listen !== null) parseListenAddress(listen);
  return listen;
}
