// A session's SSE events kept in memory so a client that lost a stream can resume it with Last-Event-ID
// (what the SDK transport calls an EventStore). Bounded by count and bytes: the oldest events go first,
// and resuming from an event that is gone is refused rather than replaying with a silent hole.

import type { EventStore, EventId, StreamId } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export interface EventStoreLimits {
  maxEvents: number;
  maxBytes: number;
}

interface StoredEvent {
  id: EventId;
  streamId: StreamId;
  message: JSONRPCMessage;
  bytes: number;
}

export class BoundedEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private readonly byId = new Map<EventId, StoredEvent>();
  private bytes = 0;
  private next = 0;

  constructor(private readonly limits: EventStoreLimits) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    // The sequence number first: ids stay unique and ordered whatever the stream id looks like.
    const event: StoredEvent = { id: `${++this.next}.${streamId}`, streamId, message, bytes: JSON.stringify(message).length };
    this.events.push(event);
    this.byId.set(event.id, event);
    this.bytes += event.bytes;
    while (this.events.length > 1 && (this.events.length > this.limits.maxEvents || this.bytes > this.limits.maxBytes)) {
      const old = this.events.shift()!;
      this.byId.delete(old.id);
      this.bytes -= old.bytes;
    }
    return event.id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.byId.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const last = this.byId.get(lastEventId);
    if (!last) throw new Error(`event ${lastEventId} is no longer stored; start the request again`);
    const from = this.events.indexOf(last) + 1;
    for (const event of this.events.slice(from)) {
      // Priming events carry no message (`{}`): the cursor they set needs no replay.
      if (event.streamId === last.streamId && "jsonrpc" in event.message) await send(event.id, event.message);
    }
    return last.streamId;
  }

  /** Events and bytes held, for tests and diagnostics. */
  get size(): { events: number; bytes: number } {
    return { events: this.events.length, bytes: this.bytes };
  }
}
