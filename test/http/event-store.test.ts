// The bounded event store on its own: replay order and scope, the priming events it skips, eviction by
// count and by bytes, and refusing to resume from an event it no longer holds.

import { describe, expect, it } from "vitest";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { BoundedEventStore } from "../../src/http/index.js";

const note = (n: number): JSONRPCMessage => ({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: `n${n}` } });
const PRIMING = {} as JSONRPCMessage;

async function replay(store: BoundedEventStore, from: string): Promise<{ stream: string; sent: Array<[string, JSONRPCMessage]> }> {
  const sent: Array<[string, JSONRPCMessage]> = [];
  const stream = await store.replayEventsAfter(from, { send: async (id, message) => void sent.push([id, message]) });
  return { stream, sent };
}

describe("BoundedEventStore", () => {
  it("replays only the events of the same stream after the given one, in order, without priming events", async () => {
    const store = new BoundedEventStore({ maxEvents: 100, maxBytes: 1 << 20 });
    const prime = await store.storeEvent("s1", PRIMING);
    await store.storeEvent("s2", note(0));
    const first = await store.storeEvent("s1", note(1));
    await store.storeEvent("s2", note(2));
    const second = await store.storeEvent("s1", note(3));
    expect(await store.getStreamIdForEventId(prime)).toBe("s1");

    const fromPrime = await replay(store, prime);
    expect(fromPrime.stream).toBe("s1");
    expect(fromPrime.sent).toEqual([
      [first, note(1)],
      [second, note(3)],
    ]);
    expect((await replay(store, first)).sent.map(([id]) => id)).toEqual([second]);
    expect((await replay(store, second)).sent).toEqual([]);
  });

  it.each([
    { name: "count", limits: { maxEvents: 3, maxBytes: 1 << 20 } },
    { name: "bytes", limits: { maxEvents: 100, maxBytes: 3 * JSON.stringify(note(1)).length } },
  ])("evicts the oldest events past its $name limit and refuses to resume from them", async ({ limits }) => {
    const store = new BoundedEventStore(limits);
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) ids.push(await store.storeEvent("s", note(n)));
    expect(store.size.events).toBe(3);
    expect(await store.getStreamIdForEventId(ids[0]!)).toBeUndefined();
    await expect(replay(store, ids[1]!)).rejects.toThrow(/no longer stored/);
    expect((await replay(store, ids[2]!)).sent.map(([id]) => id)).toEqual([ids[3], ids[4]]);
  });

  it("keeps one event even when it alone is over the byte limit", async () => {
    const store = new BoundedEventStore({ maxEvents: 10, maxBytes: 10 });
    const id = await store.storeEvent("s", note(1));
    expect(await store.getStreamIdForEventId(id)).toBe("s");
  });
});
