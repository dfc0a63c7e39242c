// The map's label font, bundled from npm (@fontsource/noto-sans) and declared in the style's
// `font-faces`, so MapLibre draws every label locally: no glyph server, no font CDN. The
// subsets cover Russian and Kazakh Cyrillic (Ә Ғ Қ Ң Ө Ұ Ү Һ І are in cyrillic-ext) and Latin.

import cyr400 from '@fontsource/noto-sans/files/noto-sans-cyrillic-400-normal.woff2?url';
import cyr600 from '@fontsource/noto-sans/files/noto-sans-cyrillic-600-normal.woff2?url';
import cyrExt400 from '@fontsource/noto-sans/files/noto-sans-cyrillic-ext-400-normal.woff2?url';
import cyrExt600 from '@fontsource/noto-sans/files/noto-sans-cyrillic-ext-600-normal.woff2?url';
import latin400 from '@fontsource/noto-sans/files/noto-sans-latin-400-normal.woff2?url';
import latin600 from '@fontsource/noto-sans/files/noto-sans-latin-600-normal.woff2?url';

export const REGULAR = 'Noto Sans Regular';
export const SEMIBOLD = 'Noto Sans SemiBold';

const RANGES = {
  latin: ['U+0000-00FF', 'U+0131', 'U+0152-0153', 'U+02BB-02BC', 'U+2000-206F', 'U+20AC', 'U+2122'],
  cyrillic: ['U+0301', 'U+0400-045F', 'U+0490-0491', 'U+04B0-04B1', 'U+2116'],
  cyrillicExt: ['U+0460-048F', 'U+0492-04AF', 'U+04B2-052F', 'U+20B4'],
};

const absolute = (url) => new URL(url, location.href).href;

export function fontFaces() {
  const faces = (latin, cyr, cyrExt) => [
    { url: absolute(latin), 'unicode-range': RANGES.latin },
    { url: absolute(cyr), 'unicode-range': RANGES.cyrillic },
    { url: absolute(cyrExt), 'unicode-range': RANGES.cyrillicExt },
  ];
  return {
    [REGULAR]: faces(latin400, cyr400, cyrExt400),
    [SEMIBOLD]: faces(latin600, cyr600, cyrExt600),
  };
}
