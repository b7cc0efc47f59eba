// Graceful close over real HTTP: a call running when close() starts still gets its answer, new connections
// and requests are refused meanwhile, and a call that outlives the drain timeout is cut off.

import { request } from "node:http";
import { describe, expect, it } from "vitest";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startHttpServer } from "../../src/http/index.js";
import { connectClient, Gate, initializeMessage, rawPost, RecordingLogger, refusal, text, toyServerFactory } from "./support.js";

describe("close()", () => {
  it("lets a running call finish, refusing new sessions meanwhile, then closes", async () => {
    const gate = new Gate();
    const logger = new RecordingLogger();
    const handle = await startHttpServer({ createServer: toyServerFactory({ gate }).create, logger, limits: { drainTimeoutMs: 10_000 } });
    const { client } = await connectClient(handle.url);
    const call = client.callTool({ name: "slow", arguments: {} }) as Promise<CallToolResult>;
    await gate.entered;

    let closed = false;
    const closing = handle.close().then(() => (closed = true));
    // The listener is closed at once: a new client cannot even connect. (On a connection still open, the
    // server would answer 503 shutting_down; Node closes the idle ones itself.)
    const late = await rawPost(handle.url, initializeMessage()).catch((err: Error) => err);
    if (late instanceof Error) expect(late.message).toMatch(/fetch failed/);
    else expect(late.status).toBe(503);
    expect(closed).toBe(false);

    gate.release();
    expect(text(await call)).toBe("slow done");
    await closing;
    expect(closed).toBe(true);
    expect(await logger.waitFor(/HTTP server closed/)).toMatch(/after 1 running call\(s\) finished/);
    await client.close();
  });

  it("cuts off a call that outlives the drain timeout, and says so", async () => {
    const gate = new Gate(); // never released
    const logger = new RecordingLogger();
    const handle = await startHttpServer({ createServer: toyServerFactory({ gate }).create, logger, limits: { drainTimeoutMs: 150 } });
    const { client } = await connectClient(handle.url);
    const call = client.callTool({ name: "slow", arguments: {} }, undefined, { timeout: 5_000 });
    call.catch(() => {});
    await gate.entered;
    const started = Date.now();
    await handle.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await logger.waitFor(/HTTP server closed/)).toMatch(/150 ms drain timeout, cutting off 1 call/);
    await client.close();
    await expect(call).rejects.toThrow();
  });

  it("answers 503 shutting_down to a request that was still arriving when close() began", async () => {
    const gate = new Gate();
    const handle = await startHttpServer({ createServer: toyServerFactory({ gate }).create, logger: new RecordingLogger(), limits: { drainTimeoutMs: 10_000 } });
    const { client } = await connectClient(handle.url);
    const call = client.callTool({ name: "slow", arguments: {} }) as Promise<CallToolResult>;
    await gate.entered;
    // "100 Continue" says the server has taken the request in; its body follows only after close() began.
    const body = JSON.stringify(initializeMessage());
    let closing: Promise<void> | undefined;
    const late = await new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = request(handle.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "content-length": Buffer.byteLength(body), expect: "100-continue" } }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
      });
      req.on("error", reject);
      req.on("continue", () => {
        closing = handle.close();
        req.end(body);
      });
      req.flushHeaders();
    });
    expect(late.status).toBe(503);
    expect(late.connection).toBe("close");
    expect(JSON.parse(late.body)).toMatchObject(refusal("shutting_down"));
    gate.release();
    expect(text(await call)).toBe("slow done");
    await closing;
    await client.close();
  });
});
