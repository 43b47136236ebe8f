/**
 * A readable text dump of a trace: one line per event or loss, all CPUs merged in time order.
 *
 * ```
 * # xmc trace: 2 CPUs, clock cycles (1000000000 Hz), mode discard, 3 events, 5 lost
 * [            1000] cpu 0 sample: a=1 b=2 c=3
 * [            1200] cpu 1 *** 5 events lost (full) ***
 * ```
 */
import { mergeEvents } from "../merge.ts";
import type { Trace } from "../trace.ts";
import { textValue } from "./values.ts";

/** The text dump of `trace` (timestamps in clock ticks). */
export function formatText(trace: Trace): string {
  const out: string[] = [
    `# xmc trace: ${trace.cpus} CPUs, clock ${trace.clock.name} (${trace.clock.unit}, ${trace.clock.frequency} Hz), mode ${trace.mode}, ${trace.eventCount} events, ${trace.lostCount()} lost`,
  ];
  for (const item of mergeEvents(trace)) {
    const head = `[${String(item.timestamp).padStart(16)}] cpu ${item.cpu}`;
    if (item.kind === "lost") {
      out.push(`${head} *** ${item.count} event${item.count === 1 ? "" : "s"} lost (${item.reason}) ***`);
    } else {
      const fields = item.eventClass.fields
        .map((f, i) => `${f.name}=${textValue(item.values[i]!)}`)
        .join(" ");
      out.push(`${head} ${item.eventClass.name}:${fields === "" ? "" : ` ${fields}`}`);
    }
  }
  return `${out.join("\n")}\n`;
}
