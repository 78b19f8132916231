import { createHash } from 'node:crypto';
import { francAll } from 'franc';
import { data as francTrigrams } from 'franc/data.js';
import { orderReasons, type TextReason } from './reasons.ts';

/*
 * Gibberish. A text is gibberish when any one of these character statistics is far outside what
 * real writing in any language gives. Each is computed only where it means something: the
 * Latin-keyboard and vowel measures on Latin script, the bigram measure on the scripts franc has
 * models for, and nothing statistical on texts too short to count.
 */

/** Below 8 non-space characters ("ok", "yes!") nothing is called gibberish. */
export const MIN_CHARACTERS_FOR_GIBBERISH = 8;
/**
 * At least half the non-space characters must be letters (combining marks count, so Devanagari
 * vowel signs do). Real prose is over 0.8, dates and figures included; "#### 1234 $$$" is not.
 */
export const MIN_LETTER_RATIO = 0.5;
/**
 * At most half the text may be a short unit (1-8 characters) repeated three times or more in a
 * row: "aaaaaa", "hahaha", "test test test ". Words like "banana" or "Mississippi" repeat a unit
 * fewer than three times and do not count.
 */
export const MAX_REPEATED_RATIO = 0.5;
const MAX_REPEAT_PERIOD = 8;
/** The vowel, keyboard and bigram measures need at least 20 letters to mean anything. */
export const MIN_LETTERS_FOR_STATISTICS = 20;
/**
 * Latin script: vowels (a e i o u y, accents folded, plus æ ø œ) are 35-55 % of the letters of
 * real text (39-52 % across the ten Latin-script fixtures, German lowest, Swahili highest);
 * keyboard mash is mostly consonants ("asdfgh jkl" has 1 vowel in 9), and "aaaa eeee" all
 * vowels. Outside 20-75 % is gibberish.
 */
export const VOWEL_RATIO_RANGE = [0.2, 0.75] as const;
/**
 * Latin script: letters in runs of 4 or more neighbouring keys of a keyboard row (QWERTY, AZERTY,
 * QWERTZ; "asdf", "qwerty", "jkjk") must stay under 30 % of the letters. Real words rarely make
 * such runs ("were", German "Wert"), and then only a few letters of a whole text.
 */
export const MAX_KEYBOARD_RUN_RATIO = 0.3;
const KEYBOARD_RUN_MIN = 4;
/**
 * Character bigrams: at least half the text's bigrams (word boundaries included) must be among
 * the bigrams of franc's trigram model of some language of the text's script. Real text scores
 * 0.6-0.85 against its language (Vietnamese, Czech, Arabic and Hindi at the low end), random
 * letters and keyboard mash 0.3-0.47 against the best-fitting of ~120 Latin-script languages.
 */
export const MIN_BIGRAM_PLAUSIBILITY = 0.5;

/*
 * Language. franc (trigram profiles of 187 languages) names the language; a text is in the
 * wrong language only when the task's language is known to franc, the text is long enough, franc
 * does not answer `und`, and the task's language scores clearly below franc's best guess.
 */

/**
 * Under 70 letters (a sentence of a dozen words) franc's guesses are too unstable to refuse anyone
 * on: cut to 60 letters, the Czech fixture reads as Italian and the Turkish one as Hausa. From 70
 * letters on no fixture of the 16 languages is refused for its own language (a few texts in a
 * wrong but related language still slip through up to ~100 letters: leniency, not refusals).
 */
export const MIN_LETTERS_FOR_LANGUAGE = 70;
/**
 * Where the script alone names the language (Han: Mandarin, kana: Japanese, Hangul: Korean, Thai,
 * Georgian, ...), franc needs no statistics and 10 letters are enough: 60 Chinese characters say
 * as much as 40 English words.
 */
export const MIN_LETTERS_FOR_SCRIPT_LANGUAGE = 10;
/**
 * franc scores its best guess 1 and the others relative to it. Languages it cannot tell apart
 * score 0.95-0.99 (Scots for English, Galician for Portuguese, Hindi, Magahi and Bhojpuri among
 * themselves: the table below accepts them for each other); related ones 0.85-0.95 (French 0.89
 * for the Spanish fixture, Spanish 0.92 for the Portuguese one), unrelated ones under 0.85. The
 * task's language must reach 0.95.
 */
export const LANGUAGE_MIN_RELATIVE_SCORE = 0.95;

/**
 * BCP 47 primary language subtag → the ISO 639-3 codes franc may answer for it. Macrolanguages
 * and dialect continua that franc's profiles cannot tell apart accept each other (Malay and
 * Indonesian, Bosnian, Croatian and Serbian, Czech and Slovak, Portuguese and Galician, the
 * Norwegian written forms, Hindi and its Bihari neighbours, Scots for English). Tags missing here are not checked.
 */
export const francLanguages: Readonly<Record<string, readonly string[]>> = {
  af: ['afr'],
  am: ['amh'],
  ar: ['arb'],
  ay: ['ayr'],
  az: ['azj'],
  be: ['bel'],
  bg: ['bul'],
  bn: ['ben'],
  bo: ['bod'],
  bs: ['bos', 'hrv', 'srp'],
  ca: ['cat'],
  ceb: ['ceb'],
  cs: ['ces', 'slk'],
  da: ['dan'],
  de: ['deu'],
  ee: ['ewe'],
  el: ['ell'],
  en: ['eng', 'sco'],
  eo: ['epo'],
  es: ['spa'],
  et: ['ekk'],
  fa: ['pes', 'prs'],
  ff: ['fuv', 'fuf'],
  fi: ['fin'],
  fil: ['tgl'],
  fr: ['fra'],
  gl: ['glg', 'por'],
  gu: ['guj'],
  ha: ['hau'],
  he: ['heb'],
  hi: ['hin', 'bho', 'mag'],
  hr: ['hrv', 'bos', 'srp'],
  ht: ['hat'],
  hu: ['hun'],
  hy: ['hye'],
  id: ['ind', 'zlm'],
  ig: ['ibo'],
  it: ['ita'],
  ja: ['jpn'],
  jv: ['jav'],
  ka: ['kat'],
  kk: ['kaz'],
  km: ['khm'],
  kn: ['kan'],
  ko: ['kor'],
  ky: ['kir'],
  lo: ['lao'],
  lt: ['lit'],
  lv: ['lvs'],
  mg: ['plt'],
  mk: ['mkd'],
  ml: ['mal'],
  mn: ['khk'],
  mr: ['mar'],
  ms: ['zlm', 'ind'],
  my: ['mya'],
  nb: ['nob', 'nno'],
  ne: ['npi'],
  nl: ['nld'],
  nn: ['nno', 'nob'],
  no: ['nob', 'nno'],
  ny: ['nya'],
  pa: ['pan'],
  pl: ['pol'],
  ps: ['pbu'],
  pt: ['por', 'glg'],
  qu: ['qug', 'quz', 'quy'],
  ro: ['ron'],
  ru: ['rus'],
  rw: ['kin'],
  si: ['sin'],
  sk: ['slk', 'ces'],
  sl: ['slv'],
  sn: ['sna'],
  so: ['som'],
  sq: ['als'],
  sr: ['srp', 'bos', 'hrv'],
  st: ['sot'],
  su: ['sun'],
  sv: ['swe'],
  sw: ['swh'],
  ta: ['tam'],
  te: ['tel'],
  tg: ['tgk'],
  th: ['tha'],
  ti: ['tir'],
  tk: ['tuk'],
  tl: ['tgl'],
  tn: ['tsn'],
  tr: ['tur'],
  tt: ['tat'],
  ug: ['uig'],
  uk: ['ukr'],
  ur: ['urd'],
  uz: ['uzn'],
  vi: ['vie'],
  wo: ['wol'],
  xh: ['xho'],
  yi: ['ydd'],
  yo: ['yor'],
  zh: ['cmn'],
  zu: ['zul'],
};

/** The franc codes for a BCP 47 tag (`es-MX` → spa), or undefined when franc cannot check it. */
export function francCodesFor(tag: string): readonly string[] | undefined {
  const primary = tag.toLowerCase().split('-')[0]!;
  return Object.hasOwn(francLanguages, primary) ? francLanguages[primary] : undefined;
}

export interface TextMeasures {
  /** Non-whitespace characters (code points). */
  characters: number;
  letters: number;
  letterRatio: number;
  repeatedRatio: number;
  /** The script most letters are in, when it is one franc has models for (else null). */
  script: string | null;
  latinLetters: number;
  vowelRatio: number | null;
  keyboardRunRatio: number | null;
  bigramPlausibility: number | null;
}

const isLetter = /[\p{L}\p{M}]/u;
const modelScripts: ReadonlyArray<[string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['Devanagari', /\p{Script=Devanagari}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Ethiopic', /\p{Script=Ethiopic}/u],
  ['Myanmar', /\p{Script=Myanmar}/u],
];

/** The character statistics `checkText` judges gibberish by (see the thresholds above). */
export function measureText(text: string): TextMeasures {
  const chars = Array.from(text.normalize('NFC'));
  let characters = 0;
  let letters = 0;
  const scriptCounts = new Map<string, number>();
  for (const char of chars) {
    if (/\s/u.test(char)) continue;
    characters++;
    if (!isLetter.test(char)) continue;
    letters++;
    for (const [script, pattern] of modelScripts) {
      if (pattern.test(char)) {
        scriptCounts.set(script, (scriptCounts.get(script) ?? 0) + 1);
        break;
      }
    }
  }
  let script: string | null = null;
  let top = 0;
  for (const [name, count] of scriptCounts) {
    if (count > top) [script, top] = [name, count];
  }
  // A script other than these (Han, Hangul, Thai, ...) may hold most letters.
  if (top * 2 < letters) script = null;
  const latin = latinLetters(text);
  const enough = letters >= MIN_LETTERS_FOR_STATISTICS;
  const latinEnough = latin.length >= MIN_LETTERS_FOR_STATISTICS && script === 'Latin';
  return {
    characters,
    letters,
    letterRatio: characters === 0 ? 1 : letters / characters,
    repeatedRatio: repeatedRatio(text),
    script,
    latinLetters: latin.length,
    vowelRatio: latinEnough ? vowelRatio(latin) : null,
    keyboardRunRatio: latinEnough ? keyboardRunRatio(text, latin.length) : null,
    bigramPlausibility: enough && script ? bigramPlausibility(text, script) : null,
  };
}

/** Whether the measures are those of gibberish. */
export function isGibberish(measures: TextMeasures): boolean {
  if (measures.characters < MIN_CHARACTERS_FOR_GIBBERISH) return false;
  if (measures.letterRatio < MIN_LETTER_RATIO) return true;
  if (measures.repeatedRatio > MAX_REPEATED_RATIO) return true;
  const { vowelRatio, keyboardRunRatio, bigramPlausibility } = measures;
  if (vowelRatio !== null && (vowelRatio < VOWEL_RATIO_RANGE[0] || vowelRatio > VOWEL_RATIO_RANGE[1]))
    return true;
  if (keyboardRunRatio !== null && keyboardRunRatio > MAX_KEYBOARD_RUN_RATIO) return true;
  return bigramPlausibility !== null && bigramPlausibility < MIN_BIGRAM_PLAUSIBILITY;
}

/** Share of the characters (whitespace collapsed) inside a unit of 1-8 repeated 3+ times in a row. */
function repeatedRatio(text: string): number {
  const chars = Array.from(text.toLowerCase().replace(/\s+/gu, ' ').trim());
  const n = chars.length;
  if (n === 0) return 0;
  const marked = new Uint8Array(n);
  for (let period = 1; period <= MAX_REPEAT_PERIOD; period++) {
    let run = 0;
    for (let i = period; i <= n; i++) {
      if (i < n && chars[i] === chars[i - period]) {
        run++;
        continue;
      }
      // chars[i - run - period, i) is the unit repeated (run + period) / period times.
      if (run >= 2 * period) marked.fill(1, i - run - period, i);
      run = 0;
    }
  }
  let count = 0;
  for (const mark of marked) count += mark;
  return count / n;
}

/** The Latin letters of the text, lower case, accents folded (é → e, ů → u, ß stays). */
function latinLetters(text: string): string[] {
  return Array.from(text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()).filter((char) =>
    /\p{Script=Latin}/u.test(char),
  );
}

const vowels = new Set('aeiouyæøœ');

function vowelRatio(latin: string[]): number {
  let count = 0;
  for (const char of latin) if (vowels.has(char)) count++;
  return count / latin.length;
}

const keyboardRows = [
  // QWERTY
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  // AZERTY
  'azertyuiop',
  'qsdfghjklm',
  'wxcvbn',
  // QWERTZ
  'qwertzuiop',
  'yxcvbnm',
];
const neighbours = new Set<string>();
for (const row of keyboardRows) {
  for (let i = 1; i < row.length; i++) {
    neighbours.add(row[i - 1]! + row[i]!);
    neighbours.add(row[i]! + row[i - 1]!);
  }
}

function keyboardRunRatio(text: string, latinCount: number): number {
  const chars = Array.from(text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase());
  let inRuns = 0;
  let run = 1;
  for (let i = 1; i <= chars.length; i++) {
    if (i < chars.length && neighbours.has(chars[i - 1]! + chars[i]!)) {
      run++;
      continue;
    }
    if (run >= KEYBOARD_RUN_MIN) inRuns += run;
    run = 1;
  }
  return inRuns / latinCount;
}

/** Per script, per language: the bigrams of franc's trigram profile. Built on first use. */
const bigramModels = new Map<string, Set<string>[]>();

function bigramModel(script: string): Set<string>[] {
  let model = bigramModels.get(script);
  if (!model) {
    model = Object.values(francTrigrams[script] ?? {}).map((profile) => {
      const bigrams = new Set<string>();
      for (const trigram of profile.split('|')) {
        bigrams.add(trigram.slice(0, 2));
        bigrams.add(trigram.slice(1, 3));
      }
      return bigrams;
    });
    bigramModels.set(script, model);
  }
  return model;
}

/** Cleaned as franc cleans before taking n-grams: ASCII punctuation and digits out, lower case. */
const francClean = (text: string) =>
  text
    .replace(/[\u0021-\u0040]+/g, ' ')
    .replace(/\s+/gu, ' ')
    .trim()
    .toLowerCase();

/** Share of the text's bigrams in the best-fitting language profile of its script. */
function bigramPlausibility(text: string, script: string): number | null {
  const clean = ` ${francClean(text)} `;
  const counts = new Map<string, number>();
  for (let i = 0; i + 2 <= clean.length; i++) {
    const bigram = clean.slice(i, i + 2);
    counts.set(bigram, (counts.get(bigram) ?? 0) + 1);
  }
  const total = clean.length - 1;
  const model = bigramModel(script);
  if (model.length === 0 || total <= 0) return null;
  let best = 0;
  for (const bigrams of model) {
    let hits = 0;
    for (const [bigram, count] of counts) if (bigrams.has(bigram)) hits += count;
    best = Math.max(best, hits);
  }
  return best / total;
}

/** franc's languages for the text, best first, scored relative to the best (1). */
export function detectLanguages(text: string): Array<[string, number]> {
  return francAll(text, { minLength: 1 });
}

/** Whether the text is clearly not in the BCP 47 language `tag` (see the thresholds above). */
export function isWrongLanguage(text: string, tag: string, measures = measureText(text)): boolean {
  const expected = francCodesFor(tag);
  // A script franc has several languages of (`script`) needs statistics; the others do not.
  const minLetters = measures.script ? MIN_LETTERS_FOR_LANGUAGE : MIN_LETTERS_FOR_SCRIPT_LANGUAGE;
  if (!expected || measures.letters < minLetters) return false;
  const scores = detectLanguages(text);
  if (scores.length === 0 || scores[0]![0] === 'und') return false;
  let best = 0;
  for (const [code, score] of scores) if (expected.includes(code)) best = Math.max(best, score);
  return best < LANGUAGE_MIN_RELATIVE_SCORE;
}

export interface TextRequirements {
  /** The task's BCP 47 language tag. */
  language: string;
}

/** Why a text fails pre-validation, in the canonical order; empty when it passes. */
export function checkText(text: string, requirements: TextRequirements): TextReason[] {
  const measures = measureText(text);
  const reasons: TextReason[] = [];
  if (isGibberish(measures)) reasons.push('TEXT_GIBBERISH');
  if (isWrongLanguage(text, requirements.language, measures)) reasons.push('TEXT_WRONG_LANGUAGE');
  return orderReasons(reasons);
}

/**
 * The text with case, whitespace, punctuation and invisible format characters (zero-width
 * spaces and joiners) folded away, after NFKC (full-width forms, ligatures): "Hello, World!" and
 * "hello world" are one text.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{Cf}\p{Z}\s]+/gu, '');
}

/** SHA-256 (hex) of `normalizeText`: equal for texts that differ only in what it folds. */
export function normalizedTextHash(text: string): string {
  return createHash('sha256').update(normalizeText(text)).digest('hex');
}
