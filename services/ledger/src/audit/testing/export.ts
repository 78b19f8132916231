import type { RecordedEvent } from '../../store/event-store.ts';
import { chainEvents } from '../chain.ts';
import { writeExport } from '../export.ts';
import { type SealSigner, trustedKey } from '../seal-keys.ts';

/** An export as the CLI writes it, from events chained and sealed in memory (every `sealEvery`, and `sealLast`). */
export async function exportLines(
  events: readonly RecordedEvent[],
  signer: SealSigner,
  options: { sealEvery: number; sealLast?: boolean },
): Promise<string[]> {
  const links = chainEvents(undefined, events);
  const seals = links
    .filter((l) => l.seq % options.sealEvery === 0 || ((options.sealLast ?? true) && l.seq === links.length))
    .map((l) =>
      signer.sign({
        seq: l.seq,
        hash: l.hash,
        sealed_at: new Date(Date.UTC(2025, 0, 2, 0, 0, l.seq)).toISOString(),
      }),
    );
  const lines: string[] = [];
  await writeExport(
    {
      keys: [trustedKey(signer.publicKey, '2025-01-01T00:00:00.000Z')],
      links: [links],
      seals: [seals],
      events: [events],
    },
    (line) => void lines.push(line),
  );
  return lines;
}
