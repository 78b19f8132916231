/**
 * Fixtures for the pre-validation checks, generated in code from fixed seeds (no binary files in
 * the repository): WAV recordings, images encoded by sharp, and texts.
 */
import sharp from 'sharp';
import wavefile from 'wavefile';

/** A small deterministic PRNG (mulberry32): the same seed gives the same fixture everywhere. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const dbfs = (level: number) => 10 ** (level / 20);

// ---------------------------------------------------------------------------------------------
// Audio

export type WavBitDepth = '8' | '16' | '24' | '32' | '32f' | '8a' | '8m';

export interface SignalOptions {
  seconds: number;
  sampleRate?: number;
  seed?: number;
}

/**
 * Something like read speech: syllables of a voiced sound (a harmonic series on a gliding pitch of
 * 100-200 Hz, with a little breath noise) under a smooth envelope, grouped into words and phrases
 * with pauses between them, on a faint background hiss (-65 dBFS). Syllables sit around -20 dBFS
 * RMS; pauses and the quiet edges of syllables make 35-45 % of the 25 ms frames silent.
 */
export function speechLike({ seconds, sampleRate = 16_000, seed = 1 }: SignalOptions): Float32Array {
  const rand = random(seed);
  const out = hiss({ seconds, sampleRate, seed: seed + 1, levelDbfs: -65 });
  const harmonics = 6;
  const norm = Array.from({ length: harmonics }, (_, h) => 1 / (h + 1)).reduce((a, b) => a + b, 0);
  let t = Math.min(0.3, seconds / 10);
  let words = 0;
  while (t < seconds - 0.3) {
    const syllables = 1 + Math.floor(rand() * 3);
    for (let s = 0; s < syllables && t < seconds - 0.3; s++) {
      const duration = 0.12 + rand() * 0.14;
      const f0 = 100 + rand() * 100;
      const glide = (rand() - 0.5) * 40;
      const amplitude = 0.25 + rand() * 0.3;
      const start = Math.round(t * sampleRate);
      const length = Math.round(duration * sampleRate);
      let phase = 0;
      for (let n = 0; n < length && start + n < out.length; n++) {
        const progress = n / length;
        phase += (2 * Math.PI * (f0 + glide * progress)) / sampleRate;
        let voice = 0;
        for (let h = 1; h <= harmonics; h++) voice += Math.sin(h * phase) / h;
        const envelope = Math.sin(Math.PI * progress);
        out[start + n] = out[start + n]! + amplitude * envelope * (voice / norm + 0.05 * (rand() - 0.5));
      }
      t += duration + 0.02 + rand() * 0.04;
    }
    words++;
    t += 0.06 + rand() * 0.12;
    if (words % 5 === 0) t += 0.3 + rand() * 0.3;
  }
  return out;
}

/** White noise at an RMS level in dBFS (uniform samples: RMS = amplitude / sqrt 3). */
export function hiss({
  seconds,
  sampleRate = 16_000,
  seed = 2,
  levelDbfs,
}: SignalOptions & { levelDbfs: number }) {
  const rand = random(seed);
  const amplitude = dbfs(levelDbfs) * Math.sqrt(3);
  const out = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * (2 * rand() - 1);
  return out;
}

export function silence({ seconds, sampleRate = 16_000 }: SignalOptions): Float32Array {
  return new Float32Array(Math.round(seconds * sampleRate));
}

/** `samples` repeated to `length`. */
export function loop(samples: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let start = 0; start < length; start += samples.length)
    out.set(samples.subarray(0, length - start), start);
  return out;
}

/**
 * A WAV file of these channels (samples in [-1, 1]). PCM and float are written here (44-byte
 * header, RIFF or big-endian RIFX); A-law and µ-law by wavefile's encoders.
 */
export function wav(
  channels: Float32Array[],
  sampleRate = 16_000,
  bitDepth: WavBitDepth = '16',
  container: 'RIFF' | 'RIFX' = 'RIFF',
): Uint8Array {
  if (bitDepth === '8a' || bitDepth === '8m') {
    const file = new wavefile.WaveFile(wav(channels, sampleRate, '16'));
    if (bitDepth === '8a') file.toALaw();
    else file.toMuLaw();
    return file.toBuffer();
  }
  const bytes = bitDepth === '32f' ? 4 : Number(bitDepth) / 8;
  const frames = channels[0]?.length ?? 0;
  const blockAlign = bytes * channels.length;
  const dataSize = frames * blockAlign;
  const out = new Uint8Array(44 + dataSize + (dataSize % 2));
  const view = new DataView(out.buffer);
  const little = container === 'RIFF';
  const tag = (offset: number, text: string) => out.set(Buffer.from(text, 'latin1'), offset);
  tag(0, container);
  view.setUint32(4, out.length - 8, little);
  tag(8, 'WAVEfmt ');
  view.setUint32(16, 16, little);
  view.setUint16(20, bitDepth === '32f' ? 3 : 1, little);
  view.setUint16(22, channels.length, little);
  view.setUint32(24, sampleRate, little);
  view.setUint32(28, sampleRate * blockAlign, little);
  view.setUint16(32, blockAlign, little);
  view.setUint16(34, bytes * 8, little);
  tag(36, 'data');
  view.setUint32(40, dataSize, little);
  const clamp = (value: number) => Math.max(-1, Math.min(1, value));
  for (let frame = 0; frame < frames; frame++) {
    for (let c = 0; c < channels.length; c++) {
      const offset = 44 + frame * blockAlign + c * bytes;
      const value = clamp(channels[c]![frame]!);
      switch (bitDepth) {
        case '8':
          view.setUint8(offset, Math.round(value * 127 + 128));
          break;
        case '16':
          view.setInt16(offset, Math.round(value * 32_767), little);
          break;
        case '24': {
          const int = Math.round(value * 8_388_607);
          if (little) {
            view.setUint16(offset, int & 0xffff, true);
            view.setInt8(offset + 2, int >> 16);
          } else {
            view.setInt8(offset, int >> 16);
            view.setUint16(offset + 1, int & 0xffff, false);
          }
          break;
        }
        case '32':
          view.setInt32(offset, Math.round(value * 2_147_483_647), little);
          break;
        case '32f':
          view.setFloat32(offset, value, little);
          break;
      }
    }
  }
  return out;
}

/** The WAV fixtures of the tests, small (16 kHz unless said otherwise). */
export const wavs = {
  /** 8 s of speech-like sound, 16-bit mono: passes the seed's 5-120 s. */
  speech: (bitDepth: WavBitDepth = '16', sampleRate = 16_000) =>
    wav([speechLike({ seconds: 8, sampleRate })], sampleRate, bitDepth),
  /** Two channels of the same speech at different gains. */
  speechStereo: () => {
    const left = speechLike({ seconds: 8 });
    return wav([left, left.map((v) => v * 0.7)]);
  },
  /** Speech over steady noise 20 dB below it: a noisy room, still fine. */
  speechInNoise: () => {
    const speech = speechLike({ seconds: 8 });
    const noise = hiss({ seconds: 8, levelDbfs: -42, seed: 9 });
    return wav([speech.map((v, i) => v + noise[i]!)]);
  },
  silent: () => wav([silence({ seconds: 8 })]),
  /** Faint hiss (-60 dBFS): an open microphone in a quiet room, nobody talking. */
  lowHiss: () => wav([hiss({ seconds: 8, levelDbfs: -60 })]),
  /** Loud steady noise (-30 dBFS): a fan or a street, nobody talking. */
  steadyNoise: () => wav([hiss({ seconds: 8, levelDbfs: -30 })]),
  /** One second of speech, then silence to 8 s. */
  mostlySilent: () => {
    const out = silence({ seconds: 8 });
    out.set(speechLike({ seconds: 1.2, seed: 3 }));
    return wav([out]);
  },
  /** 3 s: under the seed's 5 s. */
  tooShort: () => wav([speechLike({ seconds: 3 })]),
  /** 125 s at 8 kHz: over the seed's 120 s (10 s of speech, repeated). */
  tooLong: () => wav([loop(speechLike({ seconds: 10, sampleRate: 8_000 }), 125 * 8_000)], 8_000),
  /** 60 s at 16 kHz mono (10 s of speech, repeated). */
  minute: () => wav([loop(speechLike({ seconds: 10 }), 60 * 16_000)]),
};

// ---------------------------------------------------------------------------------------------
// Images

/**
 * A detailed synthetic photo, `width` x `height` RGB: a smooth colour gradient, a few large shapes
 * (the layout a perceptual hash sees), a checkerboard patch, lines of glyph-like strokes (text),
 * and sensor-like noise. A different `seed` gives a different layout.
 */
export function scene(width: number, height: number, seed = 1): Buffer {
  const rand = random(seed);
  const pixels = Buffer.alloc(width * height * 3);
  const phases = [rand() * 6, rand() * 6, rand() * 6];
  const unit = Math.min(width, height);
  const shapes = Array.from({ length: 5 }, (_, i) => ({
    circle: i % 2 === 1,
    x: rand() * width,
    y: rand() * height,
    r: unit * (0.12 + rand() * 0.2),
    colour: [rand() * 255, rand() * 255, rand() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        pixels[i + c] =
          128 + 70 * Math.sin((x / width) * 3 + phases[c]!) * Math.cos((y / height) * 2 + phases[c]!);
      }
      for (const shape of shapes) {
        const inside = shape.circle
          ? (x - shape.x) ** 2 + (y - shape.y) ** 2 < shape.r ** 2
          : Math.abs(x - shape.x) < shape.r && Math.abs(y - shape.y) < shape.r * 0.6;
        if (inside) for (let c = 0; c < 3; c++) pixels[i + c] = shape.colour[c]!;
      }
    }
  }
  // A checkerboard patch of 1/80-of-the-image squares.
  const cell = Math.max(2, Math.round(unit / 80));
  const patch = {
    x: Math.floor(width * 0.6),
    y: Math.floor(height * 0.55),
    w: Math.floor(width * 0.3),
    h: Math.floor(height * 0.35),
  };
  for (let y = patch.y; y < patch.y + patch.h; y++) {
    for (let x = patch.x; x < patch.x + patch.w; x++) {
      const value = (Math.floor(x / cell) + Math.floor(y / cell)) % 2 === 0 ? 235 : 25;
      pixels.fill(value, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  // Lines of text: dark strokes of glyph width and height on a light band.
  const glyph = Math.max(3, Math.round(unit / 60));
  for (let line = 0; line < 6; line++) {
    const top = Math.floor(height * 0.08) + line * glyph * 3;
    const left = Math.floor(width * 0.05);
    for (let y = top - glyph; y < top + 2 * glyph && y < height; y++) {
      for (let x = left; x < Math.min(width, left + width * 0.45); x++)
        pixels.fill(240, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
    let x = left + glyph;
    while (x < left + width * 0.42) {
      const strokeWidth = Math.max(1, Math.round(glyph * (0.2 + rand() * 0.3)));
      const strokeHeight = Math.round(glyph * (0.8 + rand() * 0.7));
      for (let y = top + glyph - strokeHeight; y < Math.min(height, top + glyph); y++) {
        for (let dx = 0; dx < strokeWidth; dx++)
          pixels.fill(20, (y * width + x + dx) * 3, (y * width + x + dx) * 3 + 3);
      }
      x += strokeWidth + Math.round(glyph * (0.3 + rand() * (rand() < 0.15 ? 2 : 0.5)));
    }
  }
  for (let i = 0; i < pixels.length; i++)
    pixels[i] = Math.max(0, Math.min(255, pixels[i]! + (rand() - 0.5) * 16));
  return pixels;
}

const scenes = new Map<string, Buffer>();
/** `scene`, generated once per size and seed. */
const raw = (width: number, height: number, seed = 1) => {
  const key = `${width}x${height}:${seed}`;
  let pixels = scenes.get(key);
  if (!pixels) scenes.set(key, (pixels = scene(width, height, seed)));
  return sharp(pixels, { raw: { width, height, channels: 3 } });
};

/** RGB pixels, `width` x `height`, row after row, as a PNG. */
export function rgbPng(pixels: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** The image fixtures of the tests, 640x480 unless said otherwise. */
export const images = {
  /** The detailed scene as PNG. */
  sharp: (width = 640, height = 480) => raw(width, height).png().toBuffer(),
  /** The same scene as a JPEG of quality 90 (what a phone uploads). */
  sharpJpeg: (width = 640, height = 480, quality = 90) => raw(width, height).jpeg({ quality }).toBuffer(),
  /** The scene blurred with a Gaussian of `sigma` px (a missed focus). */
  blurred: (sigma = 3) => raw(640, 480).blur(sigma).png().toBuffer(),
  /** 64x48: a thumbnail. */
  tiny: () => raw(64, 48).png().toBuffer(),
  /** The scene downscaled to half size, as JPEG. */
  resized: async (scale = 0.5) =>
    sharp(await images.sharp())
      .resize(Math.round(640 * scale))
      .jpeg({ quality: 85 })
      .toBuffer(),
  /** The scene recompressed as a JPEG of low quality. */
  recompressed: async (quality = 50) =>
    sharp(await images.sharpJpeg())
      .jpeg({ quality })
      .toBuffer(),
  /** An unrelated scene. */
  different: (seed = 2) => raw(640, 480, seed).png().toBuffer(),
  /** A PNG cut in half, as an interrupted upload leaves it. */
  truncated: async () => {
    const png = await images.sharp();
    return png.subarray(0, Math.floor(png.length / 2));
  },
  svg: () =>
    Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><rect width="800" height="600" fill="#345"/></svg>',
    ),
};

// ---------------------------------------------------------------------------------------------
// Texts

/** Real sentences, per BCP 47 tag; each is a plausible answer to a writing task. */
export const sentences = {
  en: 'The library opens at nine in the morning, but most students arrive after lunch, when the reading rooms are quieter and the coffee machine has been refilled. On Fridays the staff close an hour early.',
  es: 'La biblioteca abre a las nueve de la mañana, pero la mayoría de los estudiantes llegan después del almuerzo, cuando las salas de lectura están más tranquilas. Los viernes el personal cierra una hora antes.',
  fr: 'La bibliothèque ouvre à neuf heures du matin, mais la plupart des étudiants arrivent après le déjeuner, quand les salles de lecture sont plus calmes. Le vendredi, le personnel ferme une heure plus tôt.',
  de: 'Die Bibliothek öffnet um neun Uhr morgens, aber die meisten Studenten kommen erst nach dem Mittagessen, wenn die Lesesäle ruhiger sind und die Kaffeemaschine wieder gefüllt ist. Freitags schließt das Personal eine Stunde früher.',
  zh: '图书馆早上九点开门，但大多数学生午饭后才来，那时阅览室比较安静，咖啡机也已经加满了。每到星期五，工作人员会提前一个小时下班。',
  ar: 'تفتح المكتبة أبوابها في التاسعة صباحاً، لكن معظم الطلاب يصلون بعد الغداء عندما تكون قاعات القراءة أكثر هدوءاً. وفي أيام الجمعة يغلق الموظفون قبل ساعة من الموعد المعتاد.',
  hi: 'पुस्तकालय सुबह नौ बजे खुलता है, लेकिन ज़्यादातर छात्र दोपहर के खाने के बाद आते हैं, जब पढ़ने के कमरे शांत होते हैं। शुक्रवार को कर्मचारी एक घंटा पहले बंद कर देते हैं।',
  pt: 'A biblioteca abre às nove da manhã, mas a maioria dos estudantes chega depois do almoço, quando as salas de leitura estão mais calmas e a máquina de café já foi reabastecida.',
  it: 'La biblioteca apre alle nove del mattino, ma la maggior parte degli studenti arriva dopo pranzo, quando le sale di lettura sono più tranquille e la macchina del caffè è stata riempita.',
  pl: 'Biblioteka jest otwarta od dziewiątej rano, ale większość studentów przychodzi dopiero po obiedzie, kiedy w czytelniach jest ciszej, a ekspres do kawy został ponownie napełniony.',
  cs: 'Knihovna otevírá v devět hodin ráno, ale většina studentů přichází až po obědě, kdy jsou čítárny klidnější a kávovar je znovu naplněný. V pátek zavírá personál o hodinu dříve.',
  tr: 'Kütüphane sabah dokuzda açılıyor, ancak öğrencilerin çoğu okuma salonlarının daha sessiz olduğu öğle yemeğinden sonra geliyor. Cuma günleri personel bir saat erken kapatıyor.',
  vi: 'Thư viện mở cửa lúc chín giờ sáng, nhưng phần lớn sinh viên đến sau bữa trưa, khi các phòng đọc yên tĩnh hơn và máy pha cà phê đã được đổ đầy. Vào thứ Sáu, nhân viên đóng cửa sớm hơn một tiếng.',
  sw: 'Maktaba hufunguliwa saa tatu asubuhi, lakini wanafunzi wengi hufika baada ya chakula cha mchana, wakati vyumba vya kusomea vimetulia zaidi. Siku ya Ijumaa wafanyakazi hufunga saa moja mapema.',
  ru: 'Библиотека открывается в девять утра, но большинство студентов приходят после обеда, когда в читальных залах становится тише, а кофейный автомат снова заполнен.',
  ja: '図書館は朝九時に開きますが、ほとんどの学生は昼食の後に来ます。その頃には閲覧室が静かになり、コーヒーマシンも補充されています。',
} as const;

/** Not gibberish, though unusual: digits, names, abbreviations, a URL. */
export const unusualButReal =
  'Meeting moved to 14:30 on 12/03 in room B-204. Dr. Nkemelu will send the slides (v2.1) to the list; see https://example.org/agenda for the dial-in. RSVP by Thursday.';

/** Keyboard mash, repeated characters and random letters. */
export const gibberish = {
  keyboardMash: 'asdfgh jkl qwerty asdf jkjkjk',
  keyboardMashAzerty: 'azerty qsdfgh wxcvbn azerty qsdf',
  repeatedCharacters: 'aaaaaaaaaaaaaa hhhhhhhhhhhhhhhh !!!!!!!!!!!!!',
  repeatedSyllable: 'lalalalalalalalalalalalala hahahahahahahaha',
  /** Random lowercase letters in "words" of 3-8, from a fixed seed. */
  randomLetters: (length = 160, seed = 5) => {
    const rand = random(seed);
    let text = '';
    while (text.length < length) {
      const word = 3 + Math.floor(rand() * 6);
      for (let i = 0; i < word; i++) text += String.fromCharCode(97 + Math.floor(rand() * 26));
      text += ' ';
    }
    return text.trim();
  },
  /** Mostly digits and symbols. */
  symbols: '#### 1234 5678 $$$ %%% 0000 !!! ??? 9999 @@@ 4321',
} as const;

/** About `length` characters of real English (the sentences, paraphrased in turn), for the bench. */
export function longText(length = 5_000): string {
  const parts = [
    sentences.en,
    'Visitors who need a quiet place to work are advised to book a study room in advance, since the rooms on the second floor fill up quickly during the exam period.',
    'The catalogue can be searched online, and books that are already on loan can be reserved; a message is sent as soon as the copy is back on the shelf.',
    'Groups of more than six people should use the seminar rooms in the basement, where conversation does not disturb the other readers.',
  ];
  let text = '';
  for (let i = 0; text.length < length; i++) text += (text ? ' ' : '') + parts[i % parts.length];
  return text.slice(0, length);
}
