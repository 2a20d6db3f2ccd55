/*
 * Depthwise convolution kernels for the engine's wasm/cpu path: forward,
 * gradient with respect to the input and gradient with respect to the
 * filter, NHWC float32, symmetric padding k/2, stride 1 or 2.
 *
 * Channels are the contiguous axis. Each kernel first lists the taps that
 * reach inside the image for one pixel (or one image), then sums over them
 * sixteen channels at a time in four SIMD registers, so a partial sum is
 * stored once rather than once per tap. The channel counts of the unified
 * blocks are multiples of 8; a 4-wide and a scalar tail handle any other.
 */
#include <wasm_simd128.h>

/*
 * Tap lists live in caller-provided scratch (the module must not use a stack
 * in memory: on the wasm backend its memory is tfjs's heap): two lists of
 * MAX_TAPS ints, then c floats. A kernel of more than MAX_TAPS taps (k > 15)
 * is not supported; the filter gradient takes longer sums in chunks.
 */
#define MAX_TAPS 256

typedef struct {
  int n, h, w, c, k, stride, pad, ho, wo;
} Shape;

static Shape shape_of(int n, int h, int w, int c, int k, int stride) {
  Shape s = {n, h, w, c, k, stride, k / 2, (h + stride - 1) / stride, (w + stride - 1) / stride};
  return s;
}

static inline v128_t madd(v128_t acc, const float *a, const float *b) {
  return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a), wasm_v128_load(b)));
}

/*
 * out[0..c) = sum over t of a[a_at[t] + ch] * b[b_at[t] + ch] for every
 * channel ch: the inner product of one pixel's taps, channel by channel.
 */
static void sum_taps(float *out, const float *a, const int *a_at, const float *b,
                     const int *b_at, int taps, int c) {
  int ch = 0;
  for (; ch + 16 <= c; ch += 16) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    for (int t = 0; t < taps; t++) {
      const float *ap = a + a_at[t] + ch, *bp = b + b_at[t] + ch;
      s0 = madd(s0, ap, bp);
      s1 = madd(s1, ap + 4, bp + 4);
      s2 = madd(s2, ap + 8, bp + 8);
      s3 = madd(s3, ap + 12, bp + 12);
    }
    wasm_v128_store(out + ch, s0);
    wasm_v128_store(out + ch + 4, s1);
    wasm_v128_store(out + ch + 8, s2);
    wasm_v128_store(out + ch + 12, s3);
  }
  for (; ch + 4 <= c; ch += 4) {
    v128_t s = wasm_f32x4_splat(0.0f);
    for (int t = 0; t < taps; t++) s = madd(s, a + a_at[t] + ch, b + b_at[t] + ch);
    wasm_v128_store(out + ch, s);
  }
  for (; ch < c; ch++) {
    float s = 0.0f;
    for (int t = 0; t < taps; t++) s += a[a_at[t] + ch] * b[b_at[t] + ch];
    out[ch] = s;
  }
}

/* y[b,oy,ox,:] = sum over taps of x[b, oy*s+ky-p, ox*s+kx-p, :] * w[ky,kx,:] */
void depthwise_forward(const float *x, const float *wt, float *y, int *scratch,
                       int n, int h, int w, int c, int k, int stride) {
  Shape s = shape_of(n, h, w, c, k, stride);
  int *x_at = scratch, *w_at = scratch + MAX_TAPS;

  for (int b = 0; b < n; b++) {
    for (int oy = 0; oy < s.ho; oy++) {
      for (int ox = 0; ox < s.wo; ox++) {
        int taps = 0;
        for (int ky = 0; ky < k; ky++) {
          int iy = oy * stride + ky - s.pad;
          if (iy < 0 || iy >= h) continue;
          for (int kx = 0; kx < k; kx++) {
            int ix = ox * stride + kx - s.pad;
            if (ix < 0 || ix >= w) continue;
            x_at[taps] = ((b * h + iy) * w + ix) * c;
            w_at[taps++] = (ky * k + kx) * c;
          }
        }
        sum_taps(y + ((b * s.ho + oy) * s.wo + ox) * c, x, x_at, wt, w_at, taps, c);
      }
    }
  }
}

/*
 * dx[b,iy,ix,:] = sum over the taps (ky,kx) that read this input pixel, i.e.
 * iy + p - ky = oy * s with oy inside dy (likewise for x), of
 * dy[b,oy,ox,:] * w[ky,kx,:]. At stride s those taps are every s-th row and
 * column of the kernel, starting at (iy + p) mod s.
 */
void depthwise_grad_input(const float *dy, const float *wt, float *dx, int *scratch,
                          int n, int h, int w, int c, int k, int stride) {
  Shape s = shape_of(n, h, w, c, k, stride);
  int *g_at = scratch, *w_at = scratch + MAX_TAPS;

  for (int b = 0; b < n; b++) {
    for (int iy = 0; iy < h; iy++) {
      for (int ix = 0; ix < w; ix++) {
        int taps = 0;
        for (int ky = (iy + s.pad) % stride; ky < k; ky += stride) {
          int oy = (iy + s.pad - ky) / stride;
          if (iy + s.pad - ky < 0 || oy >= s.ho) continue;
          for (int kx = (ix + s.pad) % stride; kx < k; kx += stride) {
            int ox = (ix + s.pad - kx) / stride;
            if (ix + s.pad - kx < 0 || ox >= s.wo) continue;
            g_at[taps] = ((b * s.ho + oy) * s.wo + ox) * c;
            w_at[taps++] = (ky * k + kx) * c;
          }
        }
        sum_taps(dx + ((b * h + iy) * w + ix) * c, dy, g_at, wt, w_at, taps, c);
      }
    }
  }
}

/* acc[0..c) += part[0..c). */
static void add_row(float *acc, const float *part, int c) {
  int ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    wasm_v128_store(acc + ch, wasm_f32x4_add(wasm_v128_load(acc + ch),
                                             wasm_v128_load(part + ch)));
  }
  for (; ch < c; ch++) acc[ch] += part[ch];
}

/*
 * dw[ky,kx,:] = sum over b, oy, ox of dy[b,oy,ox,:] * x[b, oy*s+ky-p, ox*s+kx-p, :].
 * One image and one tap at a time: the output pixels whose tap lands inside
 * the image are listed, summed channel by channel in registers, and the sum
 * is added to the tap's row of dw once.
 */
void depthwise_grad_filter(const float *x, const float *dy, float *dw, int *scratch,
                           int n, int h, int w, int c, int k, int stride) {
  Shape s = shape_of(n, h, w, c, k, stride);
  int *g_at = scratch, *x_at = scratch + MAX_TAPS;
  float *partial = (float *)(scratch + 2 * MAX_TAPS);

  for (int i = 0; i < k * k * c; i++) dw[i] = 0.0f;

  for (int b = 0; b < n; b++) {
    for (int ky = 0; ky < k; ky++) {
      for (int kx = 0; kx < k; kx++) {
        float *row = dw + (ky * k + kx) * c;
        int taps = 0;
        for (int oy = 0; oy < s.ho; oy++) {
          int iy = oy * stride + ky - s.pad;
          if (iy < 0 || iy >= h) continue;
          for (int ox = 0; ox < s.wo; ox++) {
            int ix = ox * stride + kx - s.pad;
            if (ix < 0 || ix >= w) continue;
            g_at[taps] = ((b * s.ho + oy) * s.wo + ox) * c;
            x_at[taps++] = ((b * h + iy) * w + ix) * c;
            if (taps == MAX_TAPS) {
              sum_taps(partial, dy, g_at, x, x_at, taps, c);
              add_row(row, partial, c);
              taps = 0;
            }
          }
        }
        if (taps > 0) {
          sum_taps(partial, dy, g_at, x, x_at, taps, c);
          add_row(row, partial, c);
        }
      }
    }
  }
}
