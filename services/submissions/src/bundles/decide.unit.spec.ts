import { randomBytes, randomUUID } from 'node:crypto';
import type { Membership, Principal } from '@tessera/service-kit';
import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_PSEUDONYM_KEY, loadSubmissionsConfig, pseudonymKeyOf } from '../config.ts';
import {
  actorOf,
  type CampaignBundles,
  campaignPseudonymKey,
  checksumLine,
  decideBundleAccess,
  decideNextVersion,
  type ItemSource,
  manifestLineOf,
  mediaPathOf,
  pseudonymOf,
} from './decide.ts';

const companyId = randomUUID();
const member = (role: string): Membership => ({ role });
const user = (role: Principal['role']): Principal => ({ userId: randomUUID(), role, tokenId: 'j' });
const key = (scopes: string[], company = companyId): Principal => ({
  userId: randomUUID(),
  role: 'company',
  tokenId: 'j',
  companyId: company,
  scopes,
});

describe('who may make and read bundles', () => {
  type Caller = { principal: Principal; membership: Membership };
  const spec = (need: 'read' | 'write') =>
    decider((caller: Caller, company: string) =>
      decideBundleAccess(caller.principal, company, caller.membership, need),
    );

  it('lets managers, API keys with submissions:review and admins make a bundle; a viewer gets 403', () => {
    const write = spec('write');
    write
      .given({ principal: user('company'), membership: member('manager') })
      .when(companyId)
      .then(undefined);
    write
      .given({ principal: key(['submissions:review']), membership: null })
      .when(companyId)
      .then(undefined);
    write
      .given({ principal: user('admin'), membership: null })
      .when(companyId)
      .then(undefined);
    write
      .given({ principal: user('company'), membership: member('viewer') })
      .when(companyId)
      .thenRefuses('FORBIDDEN', 'forbidden');
    write
      .given({ principal: key(['datasets:read']), membership: null })
      .when(companyId)
      .thenRefuses('FORBIDDEN', 'forbidden');
  });

  it('lets every member, API keys with datasets:read and admins read; anyone else gets 404', () => {
    const read = spec('read');
    read
      .given({ principal: user('company'), membership: member('viewer') })
      .when(companyId)
      .then(undefined);
    read
      .given({ principal: key(['datasets:read']), membership: null })
      .when(companyId)
      .then(undefined);
    read
      .given({ principal: user('admin'), membership: null })
      .when(companyId)
      .then(undefined);
    for (const stranger of [
      { principal: user('company'), membership: null },
      { principal: user('contributor'), membership: null },
      { principal: key(['submissions:read']), membership: null },
      { principal: key(['datasets:read'], randomUUID()), membership: null },
    ]) {
      read.given(stranger).when(companyId).thenRefuses('BUNDLE_NOT_FOUND', 'not_found');
    }
  });

  it('logs who acted and how', () => {
    const manager = user('company');
    expect(actorOf(manager)).toEqual({ id: manager.userId, via: 'member' });
    expect(actorOf({ ...user('admin'), userId: 'ABC' })).toEqual({ id: 'abc', via: 'admin' });
    const apiKey = key(['datasets:read']);
    expect(actorOf(apiKey)).toEqual({ id: apiKey.userId, via: 'api_key' });
  });
});

describe('the next version', () => {
  const spec = decider((state: CampaignBundles, _: 'create') => decideNextVersion(state));

  it('numbers versions v1, v2, ... per campaign', () => {
    spec.given({ latestVersion: null, approved: 3 }).when('create').then(1);
    spec.given({ latestVersion: 1, approved: 5 }).when('create').then(2);
    // Nothing new since the last version still makes a version (two makers racing get two).
    spec.given({ latestVersion: 7, approved: 5 }).when('create').then(8);
  });

  it('refuses a bundle with no approved submission (409 NOTHING_TO_BUNDLE)', () => {
    spec
      .given({ latestVersion: null, approved: 0 })
      .when('create')
      .thenRefuses('NOTHING_TO_BUNDLE', 'conflict');
  });
});

describe('the pseudonym of a contributor', () => {
  const serviceKey = randomBytes(32);
  const campaign = randomUUID();
  const contributor = randomUUID();
  const spec = decider((campaignId: string, contributorId: string) =>
    pseudonymOf(campaignPseudonymKey(serviceKey, campaignId), contributorId),
  );

  it('is stable within a campaign, unrelated across campaigns and keys, and never the id', () => {
    const name = pseudonymOf(campaignPseudonymKey(serviceKey, campaign), contributor);
    expect(name).toMatch(/^c_[0-9a-f]{32}$/);
    spec.given(campaign).when(contributor).then(name);
    spec.given(campaign.toUpperCase()).when(contributor.toUpperCase()).then(name);
    spec
      .given(randomUUID())
      .when(contributor)
      .thenMatches((other) => expect(other).not.toBe(name));
    spec
      .given(campaign)
      .when(randomUUID())
      .thenMatches((other) => expect(other).not.toBe(name));
    expect(pseudonymOf(campaignPseudonymKey(randomBytes(32), campaign), contributor)).not.toBe(name);
    expect(name).not.toContain(contributor.replace(/-/g, '').slice(0, 8));
  });
});

describe('a manifest line', () => {
  const item: ItemSource = {
    submissionId: randomUUID(),
    taskId: randomUUID(),
    taskType: 'audio',
    taskInput: { prompt: 'Read aloud', language: 'en' },
    payload: { media_id: randomUUID(), transcript: 'hello' },
    contributorId: randomUUID(),
    answer: { transcript: 'hello' },
    answerConfidence: 0.9,
    verdictConfidence: 0.96,
    verdictMethod: 'consensus',
    qualityScore: 0.8,
    media: [{ sha256: 'b'.repeat(64), bytes: 1234, contentType: 'audio/wav' }],
  };
  const spec = decider((source: ItemSource, pseudonym: string) => manifestLineOf(source, pseudonym));

  it('holds the task, the work, the verdict, the media and the pseudonym, never the contributor id', () => {
    spec
      .given(item)
      .when('c_0123')
      .then({
        submission_id: item.submissionId,
        task_id: item.taskId,
        task_type: 'audio',
        task_input: item.taskInput,
        payload: item.payload,
        answer: { transcript: 'hello' },
        answer_confidence: 0.9,
        verdict: { method: 'consensus', confidence: 0.96 },
        quality_score: 0.8,
        media: [
          {
            sha256: 'b'.repeat(64),
            path: `media/${'b'.repeat(64)}.wav`,
            bytes: 1234,
            content_type: 'audio/wav',
          },
        ],
        contributor: 'c_0123',
      });
    spec
      .given(item)
      .when('c_0123')
      .thenMatches((line) => expect(JSON.stringify(line)).not.toContain(item.contributorId));
  });

  it('names media by content, with the extension of their type', () => {
    expect(mediaPathOf('a'.repeat(64), 'image/jpeg')).toBe(`media/${'a'.repeat(64)}.jpg`);
    expect(mediaPathOf('a'.repeat(64), 'audio/mp4')).toBe(`media/${'a'.repeat(64)}.m4a`);
    expect(mediaPathOf('a'.repeat(64), 'application/x-unknown')).toBe(`media/${'a'.repeat(64)}.bin`);
    expect(checksumLine('a'.repeat(64), 'manifest.jsonl')).toBe(`${'a'.repeat(64)}  manifest.jsonl\n`);
  });
});

describe('SUBMISSIONS_PSEUDONYM_KEY', () => {
  const base = {
    SERVICE_NAME: 'submissions',
    NODE_ENV: 'test',
    PORT: '4003',
    DATABASE_URL: 'postgres://localhost/tessera_submissions',
    NATS_URL: 'nats://localhost:4222',
  };

  it('is required in production, and falls back to the development key elsewhere', () => {
    expect(() => loadSubmissionsConfig({ ...base, NODE_ENV: 'production' })).toThrow(
      /SUBMISSIONS_PSEUDONYM_KEY: is required in production/,
    );
    for (const NODE_ENV of ['development', 'test']) {
      expect(pseudonymKeyOf(loadSubmissionsConfig({ ...base, NODE_ENV }))).toEqual(
        Buffer.from(DEVELOPMENT_PSEUDONYM_KEY, 'base64'),
      );
    }
    const secret = randomBytes(32);
    const production = loadSubmissionsConfig({
      ...base,
      NODE_ENV: 'production',
      SUBMISSIONS_PSEUDONYM_KEY: secret.toString('base64'),
    });
    expect(pseudonymKeyOf(production)).toEqual(secret);
  });

  it('must be 32 bytes in base64', () => {
    for (const bad of [
      randomBytes(16).toString('base64'),
      'not base64!',
      randomBytes(33).toString('base64'),
    ]) {
      expect(() => loadSubmissionsConfig({ ...base, SUBMISSIONS_PSEUDONYM_KEY: bad })).toThrow(
        /SUBMISSIONS_PSEUDONYM_KEY: must be 32 bytes in base64/,
      );
    }
  });
});
