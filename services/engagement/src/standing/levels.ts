/**
 * The level curve: reaching level n takes ⌈100 · (n − 1)^1.5⌉ cumulative XP (level 1 at 0, 2 at
 * 100, 3 at 283, 5 at 800, 10 at 2,700, 20 at 8,282). Each level costs a little more than the last,
 * so early levels come quickly and later ones mark real work.
 */
export const MAX_LEVEL = 1000;

export function xpForLevel(level: number): number {
  if (level <= 1) return 0;
  return Math.ceil(100 * (level - 1) ** 1.5);
}

export function levelForXp(xp: number): number {
  if (xp <= 0) return 1;
  // Invert the curve, then correct for rounding at the boundary.
  let level = Math.min(MAX_LEVEL, Math.floor((xp / 100) ** (2 / 3)) + 1);
  while (level < MAX_LEVEL && xpForLevel(level + 1) <= xp) level++;
  while (level > 1 && xpForLevel(level) > xp) level--;
  return level;
}

/** Where a user stands within their level: the XP the next level needs and how far along they are. */
export function levelProgress(xp: number): {
  level: number;
  xpForNext: number | null;
  xpToNext: number | null;
} {
  const level = levelForXp(xp);
  if (level >= MAX_LEVEL) return { level, xpForNext: null, xpToNext: null };
  const next = xpForLevel(level + 1);
  return { level, xpForNext: next, xpToNext: next - xp };
}
