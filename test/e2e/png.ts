/**
 * Reads the screenshots the GUI tests save, so a test can check that a chart
 * was drawn (its series colours are on the image) rather than only that a
 * file was written. Decodes 8-bit RGB/RGBA PNGs, which is what Chromium's
 * screenshots are, with node:zlib alone.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

/** A decoded image: width x height pixels, 4 bytes (RGBA) each, row by row. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The Paeth predictor of the PNG spec: a, b, c are left, up, up-left. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Undoes the per-row filters in place; returns the raw pixel rows. */
function unfilter(data: Buffer, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(stride * height);

  for (let y = 0; y < height; y++) {
    const filter = data[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;

    for (let x = 0; x < stride; x++) {
      const raw = data[src + x];
      const a = x >= bpp ? out[row + x - bpp] : 0;
      const b = y > 0 ? out[prev + x] : 0;
      const c = x >= bpp && y > 0 ? out[prev + x - bpp] : 0;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      if (predicted === undefined) throw new Error(`PNG row ${y} has unknown filter ${filter}`);
      out[row + x] = (raw + predicted) & 0xff;
    }
  }
  return out;
}

/**
 * Decodes a PNG file.
 *
 * @throws Error when the file is not a PNG, or uses a format Chromium does
 *   not write (palette, 16-bit, grey, interlaced): the message says which.
 */
export function readPng(file: string): RgbaImage {
  const bytes = fs.readFileSync(file);
  if (!bytes.subarray(0, 8).equals(SIGNATURE)) throw new Error(`${file} is not a PNG`);

  let width = 0;
  let height = 0;
  let colourType = -1;
  const idat: Buffer[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      colourType = body[9];
      if (body[8] !== 8 || body[12] !== 0 || (colourType !== 2 && colourType !== 6)) {
        throw new Error(
          `${file}: only 8-bit, non-interlaced RGB/RGBA PNGs are read (bit depth ${body[8]}, ` +
            `colour type ${colourType}, interlace ${body[12]})`,
        );
      }
    } else if (type === 'IDAT') idat.push(body);
    at += 12 + length;
  }

  const bpp = colourType === 6 ? 4 : 3;
  const pixels = unfilter(zlib.inflateSync(Buffer.concat(idat)), width, height, bpp);
  if (bpp === 4) return { width, height, rgba: pixels };

  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/** "#2f5fd0" as [r, g, b]. */
export function hexToRgb(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`expected a colour like #2f5fd0, got '${hex}'`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

/**
 * How many pixels are within `tolerance` (per channel) of a colour.
 * Anti-aliased edges blend into the background, so a drawn series still
 * has a solid core of exact or near-exact pixels.
 */
export function countColour(image: RgbaImage, hex: string, tolerance = 12): number {
  const [r, g, b] = hexToRgb(hex);
  let count = 0;
  for (let i = 0; i < image.rgba.length; i += 4) {
    if (
      Math.abs(image.rgba[i] - r) <= tolerance &&
      Math.abs(image.rgba[i + 1] - g) <= tolerance &&
      Math.abs(image.rgba[i + 2] - b) <= tolerance
    ) {
      count++;
    }
  }
  return count;
}

/** The number of distinct RGB colours (a blank or one-colour area has 1 or 2). */
export function distinctColours(image: RgbaImage): number {
  const seen = new Set<number>();
  for (let i = 0; i < image.rgba.length; i += 4) {
    seen.add((image.rgba[i] << 16) | (image.rgba[i + 1] << 8) | image.rgba[i + 2]);
  }
  return seen.size;
}

/** Margins (pixels) to cut from each side of an image. */
export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/**
 * The image without its margins: e.g. a chart's plot area without its title,
 * legend and zoom slider, whose swatches show series colours even when no
 * data is drawn.
 */
export function crop(image: RgbaImage, margins: Margins): RgbaImage {
  const width = image.width - margins.left - margins.right;
  const height = image.height - margins.top - margins.bottom;
  if (width <= 0 || height <= 0) {
    throw new Error(`margins ${JSON.stringify(margins)} leave nothing of a ` +
      `${image.width}x${image.height} image`);
  }

  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const from = ((y + margins.top) * image.width + margins.left) * 4;
    rgba.set(image.rgba.subarray(from, from + width * 4), y * width * 4);
  }
  return { width, height, rgba };
}

/** A colour drawn with some opacity over white, as the screen shows it. */
export function overWhite(hex: string, opacity: number): string {
  return over(hex, opacity, '#ffffff');
}

/** The colour `hex` shows at `opacity` over the colour `background`. */
export function over(hex: string, opacity: number, background: string): string {
  const under = hexToRgb(background);
  const mixed = hexToRgb(hex).map((c, i) => Math.round(c * opacity + under[i] * (1 - opacity)));
  return `#${mixed.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}
