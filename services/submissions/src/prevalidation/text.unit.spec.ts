import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { gibberish, longText, random, sentences, unusualButReal } from './testing/fixtures.ts';
import {
  checkText,
  francCodesFor,
  isGibberish,
  MIN_LETTERS_FOR_LANGUAGE,
  measureText,
  normalizedTextHash,
  normalizeText,
} from './text.ts';

const spec = decider(checkText);
const languages = Object.keys(sentences) as (keyof typeof sentences)[];

describe('checking a text', () => {
  it.each(languages)('passes real sentences in %s for a task in that language', (language) => {
    spec.given(sentences[language]).when({ language }).then([]);
  });

  it('takes regional and script subtags (es-MX, zh-Hans, pt-BR)', () => {
    spec.given(sentences.es).when({ language: 'es-MX' }).then([]);
    spec.given(sentences.zh).when({ language: 'zh-Hans' }).then([]);
    spec.given(sentences.pt).when({ language: 'pt-BR' }).then([]);
  });

  it('passes real text with figures, names, abbreviations and a URL, and a 5,000-character text', () => {
    spec.given(unusualButReal).when({ language: 'en' }).then([]);
    spec.given(longText()).when({ language: 'en' }).then([]);
    spec
      .given(
        'We were there when they were told the tower was lower than we were led to believe, as were the others.',
      )
      .when({ language: 'en' })
      .then([]);
  });

  it.each(Object.keys(gibberish) as (keyof typeof gibberish)[])('refuses %s as TEXT_GIBBERISH', (name) => {
    const fixture = gibberish[name];
    const text = typeof fixture === 'function' ? fixture() : fixture;
    spec
      .given(text)
      .when({ language: 'en' })
      .thenMatches((reasons) => expect(reasons[0]).toBe('TEXT_GIBBERISH'));
  });

  it('does not call a short answer gibberish', () => {
    spec.given('ok!!').when({ language: 'en' }).then([]);
    spec.given('Sí.').when({ language: 'es' }).then([]);
  });

  it('refuses a text in another language as TEXT_WRONG_LANGUAGE', () => {
    const cases: Array<[keyof typeof sentences, string]> = [
      ['en', 'es'],
      ['es', 'fr'],
      ['fr', 'de'],
      ['de', 'en'],
      ['pt', 'es'],
      ['zh', 'en'],
      ['en', 'zh'],
      ['ar', 'hi'],
      ['hi', 'ar'],
      ['ru', 'uk'],
      ['ja', 'zh'],
    ];
    for (const [written, asked] of cases) {
      spec.given(sentences[written]).when({ language: asked }).then(['TEXT_WRONG_LANGUAGE']);
    }
  });

  it(`does not judge the language of a text under ${MIN_LETTERS_FOR_LANGUAGE} letters`, () => {
    spec.given('Hola, ¿cómo estás? Muy bien, gracias.').when({ language: 'en' }).then([]);
  });

  it('does not judge a language franc does not know, nor a script it has no model of', () => {
    spec.given(sentences.en).when({ language: 'haw' }).then([]);
    spec.given(sentences.en).when({ language: 'x-private' }).then([]);
    // Cherokee syllabary: franc answers `und`.
    const rand = random(11);
    const cherokee = Array.from({ length: 20 }, () =>
      Array.from({ length: 5 }, () => String.fromCodePoint(0x13a0 + Math.floor(rand() * 80))).join(''),
    ).join(' ');
    spec.given(cherokee).when({ language: 'en' }).then([]);
  });

  it('gives both reasons when both apply', () => {
    spec
      .given(gibberish.randomLetters(400))
      .when({ language: 'zh' })
      .then(['TEXT_GIBBERISH', 'TEXT_WRONG_LANGUAGE']);
  });
});

describe('the character statistics', () => {
  it('count combining vowel signs as letters (Devanagari) and leave scripts without models alone', () => {
    const hindi = measureText(sentences.hi);
    expect(hindi.letterRatio).toBeGreaterThan(0.9);
    expect(hindi.script).toBe('Devanagari');
    expect(hindi.vowelRatio).toBeNull();
    const chinese = measureText(sentences.zh);
    expect(chinese).toMatchObject({
      script: null,
      vowelRatio: null,
      keyboardRunRatio: null,
      bigramPlausibility: null,
    });
    expect(isGibberish(chinese)).toBe(false);
  });

  it('see keyboard runs, missing vowels and implausible bigrams in keyboard mash', () => {
    const mash = measureText(gibberish.keyboardMash);
    expect(mash.keyboardRunRatio).toBeGreaterThan(0.8);
    expect(mash.vowelRatio).toBeLessThan(0.2);
    expect(mash.bigramPlausibility).toBeLessThan(0.5);
  });

  it('see repetition, but not in words that repeat a unit twice', () => {
    expect(measureText(gibberish.repeatedCharacters).repeatedRatio).toBeGreaterThan(0.9);
    expect(measureText('test test test test test test').repeatedRatio).toBe(1);
    expect(measureText('banana Mississippi bookkeeper').repeatedRatio).toBe(0);
  });

  it('score real text well above random letters on bigram plausibility', () => {
    for (const language of [
      'en',
      'es',
      'fr',
      'de',
      'pl',
      'cs',
      'tr',
      'vi',
      'sw',
      'ar',
      'hi',
      'ru',
    ] as const) {
      expect(measureText(sentences[language]).bigramPlausibility, language).toBeGreaterThan(0.6);
    }
    expect(measureText(gibberish.randomLetters()).bigramPlausibility).toBeLessThan(0.45);
  });
});

describe('language tags', () => {
  it('map BCP 47 tags to the ISO 639-3 codes franc answers', () => {
    expect(francCodesFor('en')).toContain('eng');
    expect(francCodesFor('es-MX')).toEqual(['spa']);
    expect(francCodesFor('ZH-Hant')).toEqual(['cmn']);
    expect(francCodesFor('ar')).toEqual(['arb']);
    expect(francCodesFor('hi')).toContain('hin');
    expect(francCodesFor('tlh')).toBeUndefined();
    expect(francCodesFor('constructor')).toBeUndefined();
  });
});

describe('the normalized text hash', () => {
  it('folds case, whitespace, punctuation, full-width forms and invisible characters', () => {
    const hash = normalizedTextHash('Hello, World! How are you?');
    for (const variant of [
      'hello world how are you',
      '  HELLO   world\n\nhow are you ',
      'Hello—World… How are you',
      'Hel\u200blo, World! How are\u00a0you?',
      'Ｈｅｌｌｏ，Ｗｏｒｌｄ！ How are you？',
    ]) {
      expect(normalizedTextHash(variant), variant).toBe(hash);
    }
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps texts that differ in words or letters apart', () => {
    const hash = normalizedTextHash('Hello, World! How are you?');
    expect(normalizedTextHash('Hello, World! Who are you?')).not.toBe(hash);
    expect(normalizedTextHash('Héllo, World! How are you?')).not.toBe(hash);
    expect(normalizeText('Él dijo: «¡Hola!»')).toBe('éldijohola');
  });
});
