import { describe, expect, it } from 'vitest';
import { type Audience, audiencesOf, reaches } from './audience.ts';

const at = (iso: string) => new Date(iso);
const made = (audience: Audience, iso = '2026-03-02T00:00:00Z') => ({ audience, created_at: at(iso) });

describe('who an announcement reaches', () => {
  it('reaches contributors with all and contributors, companies with all and companies', () => {
    const contributor = { role: 'contributor', registeredAt: null };
    const company = { role: 'company', registeredAt: null };
    expect(reaches(made('all'), contributor)).toBe(true);
    expect(reaches(made('contributors'), contributor)).toBe(true);
    expect(reaches(made('companies'), contributor)).toBe(false);
    expect(reaches(made('companies'), company)).toBe(true);
    expect(reaches(made('contributors'), company)).toBe(false);
  });

  it('reaches admins and unknown roles with all only', () => {
    expect(audiencesOf('admin')).toEqual(['all']);
    expect(audiencesOf(null)).toEqual(['all']);
    expect(reaches(made('contributors'), { role: 'admin', registeredAt: null })).toBe(false);
  });

  it('skips announcements made before the user registered', () => {
    const reader = { role: 'contributor', registeredAt: at('2026-03-02T00:00:00Z') };
    expect(reaches(made('all', '2026-03-01T23:59:59Z'), reader)).toBe(false);
    expect(reaches(made('all', '2026-03-02T00:00:00Z'), reader)).toBe(true);
  });
});
