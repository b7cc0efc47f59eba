// Reads a request body up to a byte cap. The server reads bodies itself (rather than letting the SDK
// transport do it) because it must see whether a request is `initialize` before it creates a session.

import type { IncomingMessage } from "node:http";

export type BodyRead =
  | { kind: "ok"; text: string }
  /** `drained`: the rest was read and discarded, so the connection can carry the 413 and stay usable. */
  | { kind: "too_large"; drained: boolean };

/**
 * A body over `maxBytes` is discarded rather than left unread: a client still uploading when the server
 * closes the socket sees a reset instead of the 413. Past `discardBytes` the server stops reading.
 */
export function readBody(req: IncomingMessage, maxBytes: number, discardBytes = Math.max(maxBytes * 8, 8 << 20)): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > discardBytes) return Promise.resolve({ kind: "too_large", drained: false });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyRead | Error) => {
      if (settled) return;
      settled = true;
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else if (size > discardBytes) {
        req.pause();
        settle({ kind: "too_large", drained: false });
      }
    };
    const onEnd = () => settle(size > maxBytes ? { kind: "too_large", drained: true } : { kind: "ok", text: Buffer.concat(chunks).toString("utf8") });
    const onError = (err: Error) => settle(err);
    const onClose = () => settle(new Error("the client closed the connection before its request body arrived"));
    req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}
