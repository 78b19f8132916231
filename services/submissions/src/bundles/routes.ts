import {
  companyMembershipOf,
  cursorParam,
  encodeCursor,
  type HttpApp,
  idempotencyHeaders,
  idParams,
  limitParam,
  orRefuse,
  paginate,
  type Principal,
  principalOf,
  type Refusal,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import { z } from 'zod';
import { pseudonymKeyOf } from '../config.ts';
import type { SubmissionsContext } from '../context.ts';
import { companyOfCampaign } from '../listing/repository.ts';
import { bundleArchive } from './archive.ts';
import { actorOf, bundleNotFound, campaignNotFound, decideBundleAccess } from './decide.ts';
import { createBundle, presentBundle, recordDownload } from './handle.ts';
import { bundleMedia, findBundle, listBundles, listDownloads, manifestLines } from './repository.ts';

const tags = ['bundles'];
const security = [{ bearerAuth: [] }];

const bundleSchema = z.object({
  id: z.uuid(),
  campaign_id: z.uuid(),
  version: z.number().int().positive(),
  items: z.number().int().positive(),
  created_at: timestamp,
  /** SHA-256 of `manifest.jsonl` as every download of this bundle holds it. */
  manifest_sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const downloadSchema = z.object({
  id: z.uuid(),
  bundle_id: z.uuid(),
  version: z.number().int().positive(),
  /** The user id, or the API key's id. */
  downloaded_by: z.string(),
  via: z.enum(['member', 'api_key', 'admin']),
  downloaded_at: timestamp,
});

export function bundleRoutes(app: HttpApp, { db, clock, config, resources }: SubmissionsContext): void {
  const deps = { db, clock, pseudonymKey: pseudonymKeyOf(config) };

  /** Throws unless the caller may `need` the company's bundles; who may not read gets `hidden`. */
  const authorize = async (
    principal: Principal,
    companyId: string,
    need: 'read' | 'write',
    hidden: Refusal,
  ): Promise<void> => {
    orRefuse(
      decideBundleAccess(
        principal,
        companyId,
        await companyMembershipOf(db, principal, companyId),
        need,
        hidden,
      ),
    );
  };

  /** The campaign's company, if the caller may `need` its bundles; otherwise 404 CAMPAIGN_NOT_FOUND. */
  const campaignFor = async (principal: Principal, campaignId: string, need: 'read' | 'write') => {
    const companyId = await companyOfCampaign(db, campaignId);
    if (!companyId) throw campaignNotFound();
    await authorize(principal, companyId, need, campaignNotFound());
    return companyId;
  };

  /** The bundle, if the caller may read it; otherwise 404 BUNDLE_NOT_FOUND. */
  const readableBundle = async (principal: Principal, id: string) => {
    const bundle = await findBundle(db, id);
    if (!bundle) throw bundleNotFound();
    await authorize(principal, bundle.company_id, 'read', bundleNotFound());
    return bundle;
  };

  app.post(
    '/api/v1/campaigns/:id/bundles',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "Freeze the campaign's approved submissions so far into its next bundle version",
        description:
          'Managers of the company, API keys with submissions:review, and admins. The bundle is immutable: ' +
          'its manifest (one line per approved submission, contributors by a per-campaign pseudonym) and ' +
          'media never change. 409 NOTHING_TO_BUNDLE while nothing is approved. An Idempotency-Key makes ' +
          'a retry answer the same bundle instead of making another version.',
        security,
        params: z.strictObject({ id: uuidParam }),
        headers: idempotencyHeaders,
        response: { 201: z.object({ bundle: bundleSchema }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const companyId = await campaignFor(principal, request.params.id, 'write');
      const bundle = await createBundle(deps, {
        campaignId: request.params.id,
        companyId,
        actor: actorOf(principal),
        idempotencyKey: request.headers['idempotency-key'],
      });
      return reply.code(201).send({ bundle });
    },
  );

  app.get(
    '/api/v1/campaigns/:id/bundles',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A campaign's bundle versions, newest first",
        description: 'Members of the company, API keys with datasets:read, and admins; anyone else gets 404.',
        security,
        params: z.strictObject({ id: uuidParam }),
        response: { 200: z.object({ bundles: z.array(bundleSchema) }) },
      },
    },
    async (request) => {
      await campaignFor(principalOf(request), request.params.id, 'read');
      return { bundles: (await listBundles(db, request.params.id)).map(presentBundle) };
    },
  );

  app.get(
    '/api/v1/bundles/:id/download',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'One zip archive of the bundle: manifest.jsonl, checksums.sha256 and media/, streamed',
        description:
          'Members of the company, API keys with datasets:read, and admins; every download is logged ' +
          '(who, which version, when) before the archive is sent. `sha256sum -c checksums.sha256` in the ' +
          'unpacked folder verifies it; the manifest’s SHA-256 is also the bundle’s `manifest_sha256`.',
        security,
        params: idParams,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const bundle = await readableBundle(principal, request.params.id);
      const media = await bundleMedia(db, bundle.id);
      await recordDownload({ db, clock }, bundle.id, actorOf(principal));
      const archive = bundleArchive({
        createdAt: new Date(bundle.created_at),
        manifestSha256: bundle.manifest_sha256.trim(),
        manifest: manifestLines(db, bundle.id),
        media,
        open: (key) => resources.storage.get(key),
      });
      archive.once('error', (error) => {
        request.log.error({ err: error, bundle: bundle.id }, 'bundle archive failed part-way');
      });
      return reply
        .type('application/zip')
        .header(
          'content-disposition',
          `attachment; filename="campaign-${bundle.campaign_id}-v${bundle.version}.zip"`,
        )
        .header('x-manifest-sha256', bundle.manifest_sha256.trim())
        .header('cache-control', 'no-store')
        .send(archive);
    },
  );

  app.get(
    '/api/v1/bundles/:id/downloads',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "The bundle's download log: who downloaded it when, newest first",
        description: 'Members of the company, API keys with datasets:read, and admins; anyone else gets 404.',
        security,
        params: idParams,
        querystring: z.strictObject({ cursor: cursorParam.optional(), limit: limitParam(50, 200) }),
        response: {
          200: z.object({ downloads: z.array(downloadSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const bundle = await readableBundle(principalOf(request), request.params.id);
      const { cursor, limit } = request.query;
      const { page, next } = paginate(await listDownloads(db, bundle.id, { cursor, limit }), limit, (row) =>
        encodeCursor({ createdAt: new Date(row.downloaded_at), id: row.id }),
      );
      return {
        downloads: page.map((row) => ({
          id: row.id,
          bundle_id: row.bundle_id,
          version: bundle.version,
          downloaded_by: row.downloaded_by,
          via: row.downloaded_via,
          downloaded_at: new Date(row.downloaded_at).toISOString(),
        })),
        next_cursor: next,
      };
    },
  );
}
