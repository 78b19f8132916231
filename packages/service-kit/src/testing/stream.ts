import { streamFor } from '@tessera/contracts';
import type { Bus } from '../messaging/bus.ts';

/** Every message in a producer's stream, in order, as parsed JSON (for assertions). */
export async function readStream(
  bus: Bus,
  producer: string,
): Promise<Array<{ subject: string; data: unknown }>> {
  const name = streamFor(producer, bus.ns).name;
  const info = await bus.jsm.streams.info(name);
  const out: Array<{ subject: string; data: unknown }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await bus.jsm.streams.getMessage(name, { seq });
    if (msg) out.push({ subject: msg.subject, data: msg.json() });
  }
  return out;
}
