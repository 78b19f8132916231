import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { foreignEvent } from '@tessera/service-kit/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { fileUpload, multipart, png, wav, zip } from '../testing/media.ts';

const KiB = 1024;
const limits = { MEDIA_MAX_AUDIO_BYTES: 2 * 1024 * KiB, MEDIA_MAX_IMAGE_BYTES: 256 * KiB };

let t: TestSubmissions;
let contributor: { id: string; token: string };

beforeAll(async () => {
  t = await startTestSubmissions(limits);
  const id = randomUUID();
  contributor = { id, token: await t.token({ sub: id, role: 'contributor' }) };
});

afterAll(async () => {
  await t?.stop();
});

/** The app on a real port, for what app.inject cannot show (a connection, a body still coming). */
let port: number | undefined;
async function listening(): Promise<number> {
  if (port === undefined) {
    await t.service.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.service.app.server.address() as AddressInfo).port;
  }
  return port;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function upload(body: { body: Buffer; contentType: string }, token = contributor.token) {
  const response = await t.service.app.inject({
    method: 'POST',
    url: '/api/v1/media',
    headers: { authorization: `Bearer ${token}`, 'content-type': body.contentType },
    payload: body.body,
  });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

async function content(id: string, token: string, range?: string) {
  const response = await t.service.app.inject({
    url: `/api/v1/media/${id}/content`,
    headers: { authorization: `Bearer ${token}`, ...(range ? { range } : {}) },
  });
  return { status: response.statusCode, raw: response.rawPayload, headers: response.headers, response };
}

/** Every file under this test file's media folder, and every media row. */
async function stored() {
  const files = (await readdir(t.mediaDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(t.mediaDir, path.join(entry.parentPath, entry.name)))
    .sort();
  const { rows } = await sql<{ id: string }>`select id from media order by id`.execute(t.service.db);
  return { files, rows: rows.map((row) => row.id) };
}

describe('uploading media', () => {
  it('takes a WAV, recognised by its bytes whatever the client calls it, and stores it whole', async () => {
    const audio = wav(2);
    const response = await upload(fileUpload(audio, 'photo.png', 'image/png'));
    expect(response.status).toBe(201);
    expect(response.body.media).toMatchObject({
      kind: 'audio',
      content_type: 'audio/wav',
      bytes: audio.length,
      sha256: sha256(audio),
      submission_id: null,
    });
    const id = response.body.media.id as string;
    const { files } = await stored();
    expect(files).toContain(path.join('media', id.slice(0, 2), id));
  });

  it('takes a PNG made from raw pixels', async () => {
    const image = await png(64, 48);
    const response = await upload(fileUpload(image, 'p.png', 'image/png'));
    expect(response.status).toBe(201);
    expect(response.body.media).toMatchObject({
      kind: 'image',
      content_type: 'image/png',
      bytes: image.length,
      sha256: sha256(image),
    });
  });

  it('refuses a ZIP named .png with 415, and anything unrecognisable, leaving nothing behind', async () => {
    const before = await stored();
    const disguised = await upload(fileUpload(zip(), 'holiday.png', 'image/png'));
    expect([disguised.status, disguised.body.code, disguised.body.detected]).toEqual([
      415,
      'MEDIA_TYPE_UNSUPPORTED',
      'application/zip',
    ]);
    const noise = await upload(fileUpload(randomBytes(20 * KiB), 'voice.wav', 'audio/wav'));
    expect([noise.status, noise.body.code]).toEqual([415, 'MEDIA_TYPE_UNSUPPORTED']);
    const text = await upload(fileUpload(Buffer.from('hello '.repeat(2000)), 'a.mp3', 'audio/mpeg'));
    expect([text.status, text.body.code]).toEqual([415, 'MEDIA_TYPE_UNSUPPORTED']);
    const empty = await upload(fileUpload(Buffer.alloc(0), 'a.wav', 'audio/wav'));
    expect([empty.status, empty.body.code]).toEqual([400, 'MEDIA_EMPTY']);
    expect(await stored()).toEqual(before);
  });

  it('refuses a file over its own kind’s limit with 413, and leaves no file and no row', async () => {
    const before = await stored();
    const big = await png(320, 320, true);
    expect(big.length).toBeGreaterThan(limits.MEDIA_MAX_IMAGE_BYTES);
    expect(big.length).toBeLessThan(limits.MEDIA_MAX_AUDIO_BYTES);
    const response = await upload(fileUpload(big, 'big.png', 'image/png'));
    expect([response.status, response.body.code, response.body.limit_bytes, response.body.kind]).toEqual([
      413,
      'MEDIA_TOO_LARGE',
      limits.MEDIA_MAX_IMAGE_BYTES,
      'image',
    ]);
    expect(await stored()).toEqual(before);
    // The same size is within audio's limit: each kind has its own.
    const audio = wav(big.length / 16_000);
    expect(audio.length).toBeGreaterThan(limits.MEDIA_MAX_IMAGE_BYTES);
    expect((await upload(fileUpload(audio))).status).toBe(201);
    // Past the largest limit, also for the largest kind.
    const huge = wav((limits.MEDIA_MAX_AUDIO_BYTES + KiB) / 16_000);
    const tooLong = await upload(fileUpload(huge));
    expect([tooLong.status, tooLong.body.code, tooLong.body.kind]).toEqual([413, 'MEDIA_TOO_LARGE', 'audio']);
  });

  it('refuses a truncated multipart body with 400, storing nothing', async () => {
    const before = await stored();
    const whole = fileUpload(wav(3));
    for (const cut of [0.6, 0.999]) {
      const truncated = { ...whole, body: whole.body.subarray(0, Math.floor(whole.body.length * cut)) };
      const response = await upload(truncated);
      expect([response.status, response.body.code]).toEqual([400, 'MALFORMED_MULTIPART']);
    }
    // Cut inside the part's headers: no file part ever began.
    const headless = await upload({ ...whole, body: whole.body.subarray(0, 40) });
    expect(headless.status).toBe(400);
    const garbage = await upload({ body: randomBytes(5000), contentType: whole.contentType });
    expect(garbage.status).toBe(400);
    expect(await stored()).toEqual(before);
  });

  it('wants the file in the field "file", as multipart, from a contributor', async () => {
    const elsewhere = await upload(multipart([{ name: 'upload', filename: 'a.wav', data: wav(1) }]));
    expect([elsewhere.status, elsewhere.body.code]).toEqual([400, 'MEDIA_FILE_MISSING']);
    const fieldsOnly = await upload(multipart([{ name: 'file', data: 'just text' }]));
    expect([fieldsOnly.status, fieldsOnly.body.code]).toEqual([400, 'MEDIA_FILE_MISSING']);
    const json = await t.inject({ method: 'POST', url: '/api/v1/media', token: contributor.token, body: {} });
    expect([json.status, json.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const anonymous = await t.service.app.inject({
      method: 'POST',
      url: '/api/v1/media',
      headers: { 'content-type': fileUpload(wav(1)).contentType },
      payload: fileUpload(wav(1)).body,
    });
    expect(anonymous.statusCode).toBe(401);
    const company = await upload(fileUpload(wav(1)), await t.token({ role: 'company' }));
    expect([company.status, company.body.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('refuses a body announced as 2 GB before reading it', async () => {
    const port = await listening();
    const before = await stored();
    const { status, body, sent } = await new Promise<{ status: number; body: string; sent: number }>(
      (resolve, reject) => {
        const request = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/media',
          headers: {
            authorization: `Bearer ${contributor.token}`,
            'content-type': 'multipart/form-data; boundary=x',
            'content-length': String(2 * 1024 * 1024 * 1024),
          },
        });
        const first = Buffer.from(
          '--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n',
        );
        request.write(first);
        request.on('response', (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            resolve({
              status: response.statusCode!,
              body: Buffer.concat(chunks).toString(),
              sent: first.length,
            });
            request.destroy();
          });
        });
        request.on('error', reject);
      },
    );
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      limit_bytes: limits.MEDIA_MAX_AUDIO_BYTES,
    });
    expect(sent).toBeLessThan(200);
    expect(await stored()).toEqual(before);
  });
});

describe('uploads over a real connection', () => {
  function post(contentType: string, length: number) {
    return http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/media',
      headers: {
        authorization: `Bearer ${contributor.token}`,
        'content-type': contentType,
        'content-length': String(length),
      },
    });
  }

  /** Sends the first `sent` bytes of an upload only, and reads the answer: status, connection, code. */
  async function answerToPart(contentType: string, body: Buffer, sent: number) {
    const request = post(contentType, body.length);
    request.on('error', () => undefined);
    const answered = new Promise<http.IncomingMessage>((resolve) => request.on('response', resolve));
    request.write(body.subarray(0, sent));
    const response = await answered;
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    request.destroy();
    const { code } = JSON.parse(Buffer.concat(chunks).toString()) as { code: string };
    return [response.statusCode, response.headers.connection, code];
  }

  it('leaves nothing when the client goes away mid-upload', async () => {
    await listening();
    const before = await stored();
    const { body, contentType } = fileUpload(wav(20));
    const request = post(contentType, body.length);
    request.on('error', () => undefined);
    request.write(body.subarray(0, Math.floor(body.length / 2)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    request.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stored()).toEqual(before);
  });

  it('answers a refused type at once, while the body is still coming, and closes the connection', async () => {
    await listening();
    const before = await stored();
    const { body, contentType } = fileUpload(
      Buffer.concat([zip(), randomBytes(200 * KiB)]),
      'a.png',
      'image/png',
    );
    // The first 16 KiB only; the rest is never sent.
    expect(await answerToPart(contentType, body, 16 * KiB)).toEqual([415, 'close', 'MEDIA_TYPE_UNSUPPORTED']);
    expect(await stored()).toEqual(before);
  });
  it('closes the connection when it refuses a small upload it had started to read', async () => {
    await listening();
    // The parser has the body piped in when the part is refused: node would not drain the rest.
    const { body, contentType } = multipart([
      { name: 'photo', filename: 'a.png', contentType: 'image/png', data: randomBytes(20 * KiB) },
    ]);
    // The first half only, the rest still to come.
    expect(await answerToPart(contentType, body, 10 * KiB)).toEqual([400, 'close', 'MEDIA_FILE_MISSING']);
  });

  it('keeps the connection when it refuses a small upload, reading the body that comes after its answer', async () => {
    await listening();
    // A company user may not upload: refused before the body is read, as the gateway meets it
    // (headers first, the body a moment later). Closing here reset the gateway's late body write.
    const company = await t.token({ sub: randomUUID(), role: 'company' });
    const { body, contentType } = fileUpload(Buffer.from('a small refused upload\n'), 'a.txt', 'text/plain');
    const socket = net.connect(port!, '127.0.0.1');
    socket.setEncoding('latin1');
    let received = '';
    let closed = false;
    let wake = () => undefined as void;
    socket.on('data', (chunk: string) => {
      received += chunk;
      wake();
    });
    socket.on('close', () => {
      closed = true;
      wake();
    });
    const until = async (predicate: () => boolean) => {
      while (!predicate()) {
        if (closed) throw new Error(`the connection closed after: ${received}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    const answers = () => received.match(/HTTP\/1\.1 \d{3}(?= )/g) ?? [];
    socket.write(
      `POST /api/v1/media HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${company}\r\n` +
        `content-type: ${contentType}\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    await until(() => answers().length === 1 && received.includes('FORBIDDEN'));
    expect(received).not.toMatch(/^connection: close/im);
    socket.write(body);
    socket.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
    await until(() => answers().length === 2 && received.endsWith('}'));
    expect(answers()).toEqual(['HTTP/1.1 403', 'HTTP/1.1 200']);
    socket.destroy();
  });
});

describe('reading media back', () => {
  let audio: Buffer;
  let id: string;

  beforeAll(async () => {
    audio = wav(1.5);
    id = (await upload(fileUpload(audio))).body.media.id;
  });

  it('serves the whole file with its sniffed type and size', async () => {
    const whole = await content(id, contributor.token);
    expect(whole.status).toBe(200);
    expect(whole.raw.equals(audio)).toBe(true);
    expect(whole.headers).toMatchObject({
      'content-type': 'audio/wav',
      'content-length': String(audio.length),
      'accept-ranges': 'bytes',
      etag: `"${sha256(audio)}"`,
    });
    const meta = await t.inject({ url: `/api/v1/media/${id}`, token: contributor.token });
    expect([meta.status, meta.body.media.bytes, meta.body.media.sha256]).toEqual([
      200,
      audio.length,
      sha256(audio),
    ]);
  });

  it('serves one byte range with 206 and Content-Range', async () => {
    const size = audio.length;
    for (const [header, start, end] of [
      ['bytes=0-43', 0, 43],
      ['bytes=1000-', 1000, size - 1],
      ['bytes=-100', size - 100, size - 1],
      [`bytes=${size - 1}-${size + 500}`, size - 1, size - 1],
    ] as const) {
      const part = await content(id, contributor.token, header);
      expect([part.status, part.headers['content-range']]).toEqual([206, `bytes ${start}-${end}/${size}`]);
      expect(part.raw.equals(audio.subarray(start, end + 1))).toBe(true);
      expect(part.headers['content-length']).toBe(String(end - start + 1));
    }
  });

  it('lets no cache keep the bytes (private, no-store), whole, in part or refused', async () => {
    const answers = [
      await content(id, contributor.token),
      await content(id, contributor.token, 'bytes=0-43'),
      await content(id, contributor.token, `bytes=${audio.length}-`),
    ];
    expect(answers.map((a) => [a.status, a.headers['cache-control']])).toEqual([
      [200, 'private, no-store'],
      [206, 'private, no-store'],
      [416, 'private, no-store'],
    ]);
  });

  it('answers 416 for a range past the end, and the whole file for one it does not serve', async () => {
    const past = await content(id, contributor.token, `bytes=${audio.length}-`);
    expect([past.status, past.headers['content-range'], past.response.json().code]).toEqual([
      416,
      `bytes */${audio.length}`,
      'RANGE_NOT_SATISFIABLE',
    ]);
    for (const ignored of ['bytes=0-1,5-9', 'lines=1-2', 'bytes=9-2', 'nonsense']) {
      const whole = await content(id, contributor.token, ignored);
      expect([whole.status, whole.raw.length]).toEqual([200, audio.length]);
    }
  });
});

describe('who may read a media item', () => {
  let id: string;
  let companyId: string;
  let submissionId: string;

  async function member(company: string) {
    const userId = randomUUID();
    await t.deliver(
      consumerNames.identity,
      foreignEvent('identity.company.member-added.v1', {
        company_id: company,
        user_id: userId,
        member_role: 'viewer',
      }),
    );
    return t.token({ sub: userId, role: 'company' });
  }

  const reads = async (token: string): Promise<[number, number, string]> => {
    const meta = await t.inject({ url: `/api/v1/media/${id}`, token });
    const bytes = await content(id, token);
    return [meta.status, bytes.status, (meta.body.code as string | undefined) ?? 'ok'];
  };

  beforeAll(async () => {
    const claim = await t.fixtures.claimed('audio');
    companyId = claim.companyId;
    const uploaded = await upload(fileUpload(wav(6)), claim.token);
    id = uploaded.body.media.id;
    // Before it is handed in: only its uploader (and admins).
    expect(await reads(await member(companyId))).toEqual([404, 404, 'MEDIA_NOT_FOUND']);
    expect(await reads(claim.token)).toEqual([200, 200, 'ok']);
    const handedIn = await t.inject({
      method: 'POST',
      url: '/api/v1/submissions',
      token: claim.token,
      body: { assignment_id: claim.assignmentId, payload: { media_id: id }, time_spent_seconds: 30 },
    });
    expect(handedIn.status).toBe(202);
    submissionId = handedIn.body.submission.id;
  });

  it('hides it from another contributor and another company (404)', async () => {
    expect(await reads(contributor.token)).toEqual([404, 404, 'MEDIA_NOT_FOUND']);
    expect(await reads(await member(randomUUID()))).toEqual([404, 404, 'MEDIA_NOT_FOUND']);
    expect(await reads(t.companyKeyToken(randomUUID(), ['submissions:read']))).toEqual([
      404,
      404,
      'MEDIA_NOT_FOUND',
    ]);
    expect(await reads(await t.token({ role: 'contributor' }))).toEqual([404, 404, 'MEDIA_NOT_FOUND']);
    const unknown = await t.inject({ url: `/api/v1/media/${randomUUID()}`, token: contributor.token });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'MEDIA_NOT_FOUND']);
  });

  it('shows it to the members of the submission’s company once handed in, and their API keys with submissions:read', async () => {
    expect(await reads(await member(companyId))).toEqual([200, 200, 'ok']);
    expect(await reads(t.companyKeyToken(companyId, ['submissions:read']))).toEqual([200, 200, 'ok']);
    expect(await reads(t.companyKeyToken(companyId, ['campaigns:read']))).toEqual([
      404,
      404,
      'MEDIA_NOT_FOUND',
    ]);
    const meta = await t.inject({ url: `/api/v1/media/${id}`, token: await member(companyId) });
    expect(meta.body.media.submission_id).toBe(submissionId);
  });

  it('shows it to a judge QC assigned to the submission, and to admins', async () => {
    const judgeId = randomUUID();
    const judge = await t.token({ sub: judgeId, role: 'contributor' });
    expect(await reads(judge)).toEqual([404, 404, 'MEDIA_NOT_FOUND']);
    await t.deliver(
      consumerNames.qc,
      foreignEvent('qc.review.assigned.v1', {
        review_id: randomUUID(),
        submission_id: submissionId,
        judge_id: judgeId,
        lease_expires_at: new Date(Date.now() + 600_000).toISOString(),
      }),
    );
    expect(await reads(judge)).toEqual([200, 200, 'ok']);
    // Nothing of it kept in the judge's browser to be shown once the lease is over.
    expect((await content(id, judge)).headers['cache-control']).toBe('private, no-store');
    expect(await reads(await t.token({ role: 'admin' }))).toEqual([200, 200, 'ok']);
    // The judge's lease over: the media is closed to them again.
    await t.service.db
      .updateTable('review_access')
      .set({ access_until: new Date(Date.now() - 1) })
      .where('judge_id', '=', judgeId)
      .execute();
    expect(await reads(judge)).toEqual([404, 404, 'MEDIA_NOT_FOUND']);
  });
});
