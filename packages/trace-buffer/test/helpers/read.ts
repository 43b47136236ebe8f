/** Reading a trace back with this package's own reader, for tests of the buffers themselves. */
import { mergeEvents, type Trace, type TraceItem } from "../../src/index.ts";

/** A compact view of an item: `name@ts[cpu]:v1,v2` for events, `lost(reason)xN@ts[cpu]` for losses. */
export function describeItem(item: TraceItem): string {
  if (item.kind === "lost") return `lost(${item.reason})x${item.count}@${item.timestamp}[${item.cpu}]`;
  return `${item.eventClass.name}@${item.timestamp}[${item.cpu}]:${item.values.map(String).join(",")}`;
}

/** Every item of the trace, merged, described. */
export function items(trace: Trace): string[] {
  return [...mergeEvents(trace)].map(describeItem);
}
