import { createHash, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TesseraEvent } from '@tessera/contracts';
import { foreignEvent, waitFor } from '@tessera/service-kit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { pseudonymKeyOf } from '../config.ts';
import { consumerNames } from '../messaging/consumers.ts';
import { createBundle as makeBundle } from './handle.ts';
import { images, wavs } from '../prevalidation/testing/fixtures.ts';
import { type ClaimFixture, startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';

// Dataset bundles through the app: submissions driven to approved by QC's verdicts (published on
// the bus as QC would, after the real pre-validation), frozen into versions, downloaded as a zip.

let t: TestSubmissions;
const campaignId: string = randomUUID();
const companyId: string = randomUUID();
/** One contributor does two of the campaign's tasks (one pseudonym for both). */
const regular = randomUUID();
let manager: string;
let viewer: string;
let outsider: string;
const contributors: string[] = [regular];
const uploaded = new Map<string, string>(); // sha256 → media id
let approved: string[] = [];
let rejected: string;
let pending: string;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const member = (company: string, role: 'manager' | 'viewer') => t.fixtures.member(company, role);

async function claimOf(type: 'audio' | 'image' | 'validation', contributorId?: string) {
  const task = await t.fixtures.task(type, undefined, { campaign_id: campaignId, company_id: companyId });
  const claim = await t.fixtures.claim(task, contributorId ? { contributorId } : {});
  if (!contributorId) contributors.push(claim.contributorId);
  return claim;
}

async function upload(claim: ClaimFixture, bytes: Uint8Array): Promise<string> {
  const id = await t.upload(claim.token, bytes);
  uploaded.set(sha256(bytes), id);
  return id;
}

/** Hands in work and waits until pre-validation has sent it to review. */
async function inReview(claim: ClaimFixture, payload: unknown): Promise<string> {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/submissions',
    token: claim.token,
    body: { assignment_id: claim.assignmentId, payload, time_spent_seconds: 60 },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  const id = response.body.submission.id as string;
  await waitFor(
    async () => {
      const seen = await t.inject({ url: `/api/v1/submissions/${id}`, token: claim.token });
      return seen.body.submission.status === 'in_review';
    },
    { what: `${id} in review` },
  );
  return id;
}

async function verdict(
  submissionId: string,
  data: Partial<TesseraEvent<'qc.submission.verdict-reached.v1'>['data']> = {},
) {
  await t.deliver(
    consumerNames.qc,
    foreignEvent('qc.submission.verdict-reached.v1', {
      submission_id: submissionId,
      revision: 1,
      verdict: 'approve',
      method: 'consensus',
      confidence: 0.96,
      quality_score: 0.8,
      reason_codes: [],
      answer: { option: 'yes' },
      answer_confidence: 0.9,
      ...data,
    }),
  );
}

const createBundle = (token: string, campaign = campaignId, key?: string) =>
  t.inject({ method: 'POST', url: `/api/v1/campaigns/${campaign}/bundles`, token, ...(key ? { key } : {}) });

async function download(token: string, bundleId: string) {
  const response = await t.service.app.inject({
    url: `/api/v1/bundles/${bundleId}/download`,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload };
}

/** Every file of a zip archive, read with yauzl. */
async function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true });
  const files = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => {
          files.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return files;
}

const lines = (manifest: Buffer) =>
  manifest
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  t = await startTestSubmissions();
  manager = await member(companyId, 'manager');
  viewer = await member(companyId, 'viewer');
  outsider = await member(randomUUID(), 'manager');

  const voice = await claimOf('audio', regular);
  const voiceId = await inReview(voice, { media_id: await upload(voice, wavs.speech()) });
  const photo = await claimOf('image');
  const photoId = await inReview(photo, { media_id: await upload(photo, await images.sharp()) });
  const yes = await claimOf('validation', regular);
  const yesId = await inReview(yes, { option: 'yes' });
  rejected = await inReview(await claimOf('validation'), { option: 'no' });
  pending = await inReview(await claimOf('validation'), { option: 'yes' });

  await verdict(voiceId, { answer: { transcript: 'hello world' } });
  await verdict(photoId, { answer: null, answer_confidence: null });
  await verdict(yesId);
  await verdict(rejected, { verdict: 'reject', reason_codes: ['OFF_TOPIC'] });
  approved = [voiceId, photoId, yesId];
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('making bundles', () => {
  let v1: { id: string; version: number; manifest_sha256: string; items: number };

  it('freezes exactly the approved submissions into v1 (not the rejected or in-review ones)', async () => {
    const response = await createBundle(manager);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    v1 = response.body.bundle;
    expect(v1).toEqual({
      id: expect.any(String),
      campaign_id: campaignId,
      version: 1,
      items: 3,
      created_at: expect.any(String),
      manifest_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const items = await t.service.db
      .selectFrom('bundle_items')
      .select('submission_id')
      .where('bundle_id', '=', v1.id)
      .orderBy('position')
      .execute();
    expect(items.map((row) => row.submission_id)).toEqual(approved);
    expect(items.map((row) => row.submission_id)).not.toContain(rejected);
    expect(items.map((row) => row.submission_id)).not.toContain(pending);
    const [published] = await t.awaitPublished(
      'submissions.bundle.published.v1',
      (e) => e.data.bundle_id === v1.id,
    );
    expect(published!.data).toEqual({
      bundle_id: v1.id,
      campaign_id: campaignId,
      company_id: expect.any(String),
      version: 1,
      items: 3,
      manifest_sha256: v1.manifest_sha256,
    });
  });

  it('makes v2 after more approvals and leaves v1 as it was', async () => {
    const before = await download(manager, v1.id);
    await verdict(pending);
    const response = await createBundle(manager);
    expect([response.status, response.body.bundle.version, response.body.bundle.items]).toEqual([201, 2, 4]);
    const list = await t.inject({ url: `/api/v1/campaigns/${campaignId}/bundles`, token: viewer });
    expect(list.status).toBe(200);
    expect(list.body.bundles.map((b: { version: number; items: number }) => [b.version, b.items])).toEqual([
      [2, 4],
      [1, 3],
    ]);
    expect(list.body.bundles[1]).toEqual(v1);
    // The same bundle always yields the same manifest (and, its entries dated, the same archive).
    const after = await download(manager, v1.id);
    expect(sha256(after.bytes)).toBe(sha256(before.bytes));
    const manifest = (await unzip(after.bytes)).get('manifest.jsonl')!;
    expect(sha256(manifest)).toBe(v1.manifest_sha256);
    expect(lines(manifest).map((line) => line.submission_id)).toEqual(approved);
  });

  it('refuses a campaign with nothing approved (409 NOTHING_TO_BUNDLE) and hides unknown campaigns', async () => {
    const quiet = await t.fixtures.task('validation', undefined, { company_id: companyId });
    const response = await createBundle(manager, quiet.campaignId);
    expect([response.status, response.body.code]).toEqual([409, 'NOTHING_TO_BUNDLE']);
    const unknown = await createBundle(manager, randomUUID());
    expect([unknown.status, unknown.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
  });

  it('gives racing makers distinct versions, and a retried request with its Idempotency-Key the same bundle', async () => {
    const admin = await t.token({ role: 'admin' });
    const key = t.companyKeyToken(companyId, ['submissions:review']);
    const raced = await Promise.all([createBundle(manager), createBundle(admin), createBundle(key)]);
    expect(raced.map((r) => r.status)).toEqual([201, 201, 201]);
    const versions = raced.map((r) => r.body.bundle.version as number).sort();
    expect(versions).toEqual([3, 4, 5]);
    // The same content each time: the same manifest.
    expect(new Set(raced.map((r) => r.body.bundle.manifest_sha256 as string)).size).toBe(1);

    const first = await createBundle(manager, campaignId, 'bundle-retry-1');
    const again = await createBundle(manager, campaignId, 'bundle-retry-1');
    expect([first.status, again.status, again.body.bundle]).toEqual([201, 201, first.body.bundle]);
    expect(first.body.bundle.version).toBe(6);
  });

  it('reads the approved work a page at a time into the same manifest, items and media', async () => {
    const db = t.service.db;
    const whole = await createBundle(manager);
    expect([whole.status, whole.body.bundle.items]).toEqual([201, 4]);
    /** A bundle as stored: its lines in order, its media files, its counts and hash. */
    const stored = async (id: string) => {
      const bundle = await db
        .selectFrom('bundles')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const items = await db
        .selectFrom('bundle_items')
        .select(['position', 'submission_id', 'line'])
        .where('bundle_id', '=', id)
        .orderBy('position')
        .execute();
      const media = await db
        .selectFrom('bundle_media')
        .select(['path', 'sha256', 'bytes', 'content_type', 'storage_key'])
        .where('bundle_id', '=', id)
        .orderBy('path')
        .execute();
      const { items: count, media_files, manifest_bytes, manifest_sha256 } = bundle;
      return { count, media_files, manifest_bytes, manifest_sha256, items, media };
    };
    const expected = await stored(whole.body.bundle.id as string);
    expect(expected.media).toHaveLength(2);
    // Pages of 1, 2 (ending exactly at the last item), and 3 (a part page last).
    for (const pageSize of [1, 2, 3]) {
      const paged = await makeBundle(
        { db, clock: () => new Date(), pseudonymKey: pseudonymKeyOf(t.config), pageSize },
        { campaignId, companyId, actor: { id: randomUUID(), via: 'admin' } },
      );
      expect(await stored(paged.id), `pages of ${pageSize}`).toEqual(expected);
    }
  });

  it('lets only managers, submissions:review keys and admins make one; a viewer gets 403, others 404', async () => {
    const forbidden = await createBundle(viewer);
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'FORBIDDEN']);
    const readKey = await createBundle(t.companyKeyToken(companyId, ['datasets:read']));
    expect(readKey.status).toBe(403);
    for (const token of [
      outsider,
      await t.token({ role: 'contributor' }),
      t.companyKeyToken(randomUUID(), ['submissions:review']),
    ]) {
      const hidden = await createBundle(token);
      expect([hidden.status, hidden.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
    }
  });

  it('never changes or deletes a bundle, its items, media or download log', async () => {
    const db = t.service.db;
    await expect(
      db.updateTable('bundles').set({ items: 1 }).where('id', '=', v1.id).execute(),
    ).rejects.toThrow(/never changed or deleted/);
    await expect(db.deleteFrom('bundle_items').where('bundle_id', '=', v1.id).execute()).rejects.toThrow(
      /never changed or deleted/,
    );
    await expect(sql`truncate bundle_downloads`.execute(db)).rejects.toThrow(/never changed or deleted/);
  });
});

describe('downloading a bundle', () => {
  let bundle: { id: string; version: number; manifest_sha256: string };
  let files: Map<string, Buffer>;

  beforeAll(async () => {
    const list = await t.inject({ url: `/api/v1/campaigns/${campaignId}/bundles`, token: manager });
    bundle = list.body.bundles.find((b: { version: number }) => b.version === 2);
    const response = await download(viewer, bundle.id);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="campaign-${campaignId}-v2.zip"`,
    );
    files = await unzip(response.bytes);
  });

  it('holds the manifest and the media, whose SHA-256 match checksums.sha256 and the manifest', async () => {
    const manifest = files.get('manifest.jsonl')!;
    expect(sha256(manifest)).toBe(bundle.manifest_sha256);
    const checksums = files
      .get('checksums.sha256')!
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [hash, path] = line.split('  ');
        return [path!, hash!] as const;
      });
    const mediaPaths = [...files.keys()].filter((name) => name.startsWith('media/')).sort();
    expect(checksums.map(([path]) => path)).toEqual(['manifest.jsonl', ...mediaPaths]);
    for (const [path, hash] of checksums) expect(sha256(files.get(path)!), path).toBe(hash);

    const entries = lines(manifest);
    expect(entries).toHaveLength(4);
    const media = entries.flatMap(
      (entry) => entry.media as { sha256: string; path: string; bytes: number }[],
    );
    expect(media.map((m) => m.path).sort()).toEqual(mediaPaths);
    for (const m of media) {
      expect(files.get(m.path)!.length).toBe(m.bytes);
      expect(sha256(files.get(m.path)!)).toBe(m.sha256);
      // The very bytes the contributor uploaded.
      expect(uploaded.has(m.sha256)).toBe(true);
    }
    expect(mediaPaths.map((p) => p.slice(-4))).toEqual(expect.arrayContaining(['.wav', '.png']));
  });

  it('describes each item: task, work, verdict, and the contributor by a pseudonym only', async () => {
    const manifestText = files.get('manifest.jsonl')!.toString('utf8');
    for (const contributor of contributors) expect(manifestText).not.toContain(contributor);
    const entries = lines(files.get('manifest.jsonl')!);
    const voice = entries.find((entry) => entry.task_type === 'audio')!;
    expect(voice).toMatchObject({
      task_input: { prompt: 'Read the sentence aloud', language: 'en' },
      payload: { media_id: expect.any(String) },
      answer: { transcript: 'hello world' },
      answer_confidence: 0.9,
      verdict: { method: 'consensus', confidence: 0.96 },
      quality_score: 0.8,
      media: [{ path: expect.stringMatching(/^media\/[0-9a-f]{64}\.wav$/), content_type: 'audio/wav' }],
    });
    const pseudonyms = entries.map((entry) => entry.contributor as string);
    for (const name of pseudonyms) expect(name).toMatch(/^c_[0-9a-f]{32}$/);
    // The regular contributor did the audio and the first validation: one name for both.
    const regularItems = entries.filter(
      (entry) => entry.submission_id === approved[0] || entry.submission_id === approved[2],
    );
    expect(new Set(regularItems.map((entry) => entry.contributor)).size).toBe(1);
    expect(new Set(pseudonyms).size).toBe(3);
  });

  it('logs every download before sending it, and lists the log to the company and admins', async () => {
    const apiKey = t.companyKeyToken(companyId, ['datasets:read']);
    expect((await download(apiKey, bundle.id)).status).toBe(200);
    const log = await t.inject({ url: `/api/v1/bundles/${bundle.id}/downloads`, token: viewer });
    expect(log.status).toBe(200);
    expect(log.body.downloads).toHaveLength(2);
    expect(log.body.downloads.map((d: { via: string; version: number }) => [d.via, d.version])).toEqual([
      ['api_key', 2],
      ['member', 2],
    ]);
    const paged = await t.inject({ url: `/api/v1/bundles/${bundle.id}/downloads?limit=1`, token: manager });
    const rest = await t.inject({
      url: `/api/v1/bundles/${bundle.id}/downloads?limit=1&cursor=${paged.body.next_cursor}`,
      token: await t.token({ role: 'admin' }),
    });
    expect([...paged.body.downloads, ...rest.body.downloads]).toEqual(log.body.downloads);
    expect(rest.body.next_cursor).toBeNull();
  });

  it('shows nothing of a bundle to another company, a contributor or a key without datasets:read (404)', async () => {
    const strangers = [
      outsider,
      await t.token({ role: 'contributor', sub: regular }),
      t.companyKeyToken(companyId, ['submissions:read']),
      t.companyKeyToken(randomUUID(), ['datasets:read']),
    ];
    const before = await t.service.db
      .selectFrom('bundle_downloads')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    for (const token of strangers) {
      const zip = await download(token, bundle.id);
      expect([zip.status, JSON.parse(zip.bytes.toString()).code]).toEqual([404, 'BUNDLE_NOT_FOUND']);
      const log = await t.inject({ url: `/api/v1/bundles/${bundle.id}/downloads`, token });
      expect([log.status, log.body.code]).toEqual([404, 'BUNDLE_NOT_FOUND']);
      const list = await t.inject({ url: `/api/v1/campaigns/${campaignId}/bundles`, token });
      expect([list.status, list.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
    }
    const missing = await download(manager, randomUUID());
    expect(missing.status).toBe(404);
    const after = await t.service.db
      .selectFrom('bundle_downloads')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });
});

describe('a media file that changed in the store', () => {
  it('breaks the archive off rather than ship bytes the checksums disown, and the service stays up', async () => {
    const task = await t.fixtures.task('image');
    const claim = await t.fixtures.claim(task);
    const id = await inReview(claim, { media_id: await upload(claim, await images.different(7)) });
    await verdict(id, { answer: null, answer_confidence: null });
    const company = await member(task.companyId, 'manager');
    const made = await t.inject({
      method: 'POST',
      url: `/api/v1/campaigns/${task.campaignId}/bundles`,
      token: company,
    });
    expect(made.status).toBe(201);
    const stored = await t.service.db
      .selectFrom('bundle_media')
      .select('storage_key')
      .where('bundle_id', '=', made.body.bundle.id)
      .executeTakeFirstOrThrow();
    await writeFile(path.join(t.mediaDir, ...stored.storage_key.split('/')), Buffer.from('tampered'));

    // The headers are out by then: the response is cut off, so no client takes it for whole.
    await expect(download(company, made.body.bundle.id as string)).rejects.toThrow(/response destroyed/);
    const healthy = await t.inject({ url: `/api/v1/campaigns/${campaignId}/bundles`, token: manager });
    expect(healthy.status).toBe(200);
  });
});
