/*
 * Depthwise convolution kernels for the engine's wasm/cpu path: forward,
 * gradient with respect to the input and gradient with respect to the
 * filter, NHWC float32, symmetric padding k/2, stride 1 or 2.
 *
 * Built to WebAssembly with 128-bit SIMD by `npm run build:kernels`; the
 * engine copies tensors into this module's memory, calls one function and
 * copies the result out. Channels are the contiguous axis, so every loop
 * runs four channels per SIMD lane group; the channel counts of the unified
 * blocks are multiples of 8, and a scalar tail handles any other count.
 */
#include <wasm_simd128.h>

typedef struct {
  int n, h, w, c, k, stride, ho, wo;
} Shape;

static Shape shape_of(int n, int h, int w, int c, int k, int stride) {
  Shape s = {n, h, w, c, k, stride, (h + stride - 1) / stride, (w + stride - 1) / stride};
  return s;
}

/* Adds a[0..c) * b[0..c) to acc[0..c), four channels per SIMD step. */
static inline void multiply_add(float *acc, const float *a, const float *b, int c) {
  int ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    v128_t prod = wasm_f32x4_mul(wasm_v128_load(a + ch), wasm_v128_load(b + ch));
    wasm_v128_store(acc + ch, wasm_f32x4_add(wasm_v128_load(acc + ch), prod));
  }
  for (; ch < c; ch++) acc[ch] += a[ch] * b[ch];
}

static void zero(float *p, int count) {
  for (int i = 0; i < count; i++) p[i] = 0.0f;
}

/*
 * Calls visit(o, i, t) for every (output pixel, input pixel, tap) triple of
 * the convolution whose input pixel lies inside the image: o, i and t are
 * the element offsets of the pixel rows in y, x and w. The three kernels
 * differ only in what they multiply and where they add it.
 */
#define FOR_EACH_TAP(s, p, BODY)                                                   \
  for (int b = 0; b < (s).n; b++) {                                                \
    for (int oy = 0; oy < (s).ho; oy++) {                                          \
      int base_y = oy * (s).stride - (p);                                          \
      int ky0 = base_y < 0 ? -base_y : 0;                                          \
      int ky1 = (s).h - base_y < (s).k ? (s).h - base_y : (s).k;                   \
      for (int ox = 0; ox < (s).wo; ox++) {                                        \
        int base_x = ox * (s).stride - (p);                                        \
        int kx0 = base_x < 0 ? -base_x : 0;                                        \
        int kx1 = (s).w - base_x < (s).k ? (s).w - base_x : (s).k;                 \
        int o = ((b * (s).ho + oy) * (s).wo + ox) * (s).c;                         \
        for (int ky = ky0; ky < ky1; ky++) {                                       \
          for (int kx = kx0; kx < kx1; kx++) {                                     \
            int i = ((b * (s).h + base_y + ky) * (s).w + base_x + kx) * (s).c;     \
            int t = (ky * (s).k + kx) * (s).c;                                     \
            BODY                                                                   \
          }                                                                        \
        }                                                                          \
      }                                                                            \
    }                                                                              \
  }

/* y[b,oy,ox,:] = sum over taps of x[b, oy*s+ky-p, ox*s+kx-p, :] * w[ky,kx,:] */
void depthwise_forward(const float *x, const float *wt, float *y,
                       int n, int h, int w, int c, int k, int stride) {
  Shape s = shape_of(n, h, w, c, k, stride);
  int p = k / 2;

  zero(y, n * s.ho * s.wo * c);
  FOR_EACH_TAP(s, p, multiply_add(y + o, x + i, wt + t, c);)
}

/*
 * dx = the transpose of the forward: every output pixel's dy, times each
 * tap's weights, is added to the input pixel that tap read.
 */
void depthwise_grad_input(const float *dy, const float *wt, float *dx,
                          int n, int h, int w, int c, int k, int stride) {
  Shape s = shape_of(n, h, w, c, k, stride);
  int p = k / 2;

  zero(dx, n * h * w * c);
  FOR_EACH_TAP(s, p, multiply_add(dx + i, dy + o, wt + t, c);)
}

/*
 * dw[ky,kx,:] = sum over b, oy, ox of dy[b,oy,ox,:] * x[b, oy*s+ky-p, ox*s+kx-p, :].
 * The k*k*c sums (at most 7*7*288 floats) stay in cache while every output
 * pixel adds its contribution to the taps that reach inside the image.
 */
void depthwise_grad_filter(const float *x, const float *dy, float *dw,
                           int n, int h, int w, int c, int k, int stride) {
  Shape s = shape_of(n, h, w, c, k, stride);
  int p = k / 2;

  zero(dw, k * k * c);
  FOR_EACH_TAP(s, p, multiply_add(dw + t, dy + o, x + i, c);)
}
