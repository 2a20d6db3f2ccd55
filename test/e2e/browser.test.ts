/**
 * The browser tests' helpers, without a browser: where no Chromium exists
 * the tests fail saying what to install, and the screenshot decoder reads
 * every row filter a PNG may use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { findChromium } from './browser.js';
import { countColour, crop, overWhite, readPng } from './png.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sgnas-png-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('findChromium', () => {
  it('says exactly what to install when no candidate exists', () => {
    const missing = ['/nonexistent/chromium', '/nonexistent/chrome'];
    expect(() => findChromium(missing)).toThrow(/apt-get install -y chromium/);
    expect(() => findChromium(missing)).toThrow(/\/nonexistent\/chromium, \/nonexistent\/chrome/);
  });

  it('takes the first candidate that exists', () => {
    // Any existing file stands in for a browser binary here.
    expect(findChromium(['/nonexistent/chromium', process.execPath])).toBe(process.execPath);
  });
});

/** Big-endian chunk: length, type, body, CRC (PNG readers here ignore the CRC). */
function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body, Buffer.alloc(4)]);
}

/**
 * Encodes RGB pixels as a PNG whose row y uses filter y % 5 (none, sub, up,
 * average, Paeth), following the PNG spec's forward filters.
 */
function encodeRgb(width: number, height: number, rgb: Uint8Array): Buffer {
  const stride = width * 3;
  const at = (x: number, y: number) => (x < 0 || y < 0 ? 0 : rgb[y * stride + x]);
  const paeth = (a: number, b: number, c: number) => {
    const p = a + b - c;
    const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  };
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    const filter = y % 5;
    rows.push(filter);
    for (let x = 0; x < stride; x++) {
      const [a, b, c] = [at(x - 3, y), at(x, y - 1), at(x - 3, y - 1)];
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      rows.push((rgb[y * stride + x] - predicted) & 0xff);
    }
  }

  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('readPng', () => {
  it('decodes every row filter back to the original pixels', () => {
    const [width, height] = [7, 10];
    // A pattern with varied neighbours, so each predictor matters.
    const rgb = Uint8Array.from(
      { length: width * height * 3 },
      (_, i) => (i * 37 + (i >> 3)) & 255,
    );
    const file = path.join(dir, 'filters.png');
    fs.writeFileSync(file, encodeRgb(width, height, rgb));

    const image = readPng(file);
    expect([image.width, image.height]).toEqual([width, height]);
    const decoded = [...image.rgba].filter((_, i) => i % 4 !== 3);
    expect(decoded).toEqual([...rgb]);
  });

  it('counts a colour within a tolerance, inside a cropped area', () => {
    // 4x2: left half #2f5fd0, right half white.
    const rgb = new Uint8Array(4 * 2 * 3).fill(255);
    for (const i of [0, 1, 4, 5]) rgb.set([0x2f, 0x5f, 0xd0], i * 3);
    const file = path.join(dir, 'halves.png');
    fs.writeFileSync(file, encodeRgb(4, 2, rgb));
    const image = readPng(file);

    expect(countColour(image, '#2f5fd0')).toBe(4);
    expect(countColour(image, '#3a68d8', 12)).toBe(4);
    expect(countColour(crop(image, { top: 0, right: 0, bottom: 0, left: 2 }), '#2f5fd0')).toBe(0);
    expect(overWhite('#000000', 0.8)).toBe('#333333');
  });
});
