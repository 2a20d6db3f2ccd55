/*
 * The matrix products of the 1x1 convs and their two gradients, row-major
 * float32: rows are pixels (N*H*W), k input and n output channels.
 *
 * tfjs-wasm runs a product through XNNPACK, which repacks its right-hand
 * operand on every call: for the weight gradient x^T * dy that operand is
 * the whole of dy, after a transpose of x. Here each output block of 4 x 8
 * stays in eight SIMD registers while the loop runs down the rows, so
 * nothing is transposed or repacked.
 */
#include <wasm_simd128.h>

#define MADD(acc, x, y) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(x, y))

/* The scalar sum of a[r, :] . column j of b [k, n] (tails of the blocked loops). */
static float row_times_column(const float *a, const float *b, int r, int j, int k, int n) {
  float s = 0.0f;
  for (int i = 0; i < k; i++) s += a[r * k + i] * b[i * n + j];
  return s;
}

/* c [m, n] = a [m, k] * b [k, n] */
void matmul_forward(const float *a, const float *b, float *c, int m, int k, int n) {
  int r = 0;
  for (; r + 4 <= m; r += 4) {
    int j = 0;
    for (; j + 8 <= n; j += 8) {
      v128_t s00 = wasm_f32x4_splat(0.0f), s01 = s00, s10 = s00, s11 = s00;
      v128_t s20 = s00, s21 = s00, s30 = s00, s31 = s00;
      for (int i = 0; i < k; i++) {
        v128_t b0 = wasm_v128_load(b + i * n + j), b1 = wasm_v128_load(b + i * n + j + 4);
        v128_t a0 = wasm_f32x4_splat(a[r * k + i]), a1 = wasm_f32x4_splat(a[(r + 1) * k + i]);
        v128_t a2 = wasm_f32x4_splat(a[(r + 2) * k + i]);
        v128_t a3 = wasm_f32x4_splat(a[(r + 3) * k + i]);
        MADD(s00, a0, b0); MADD(s01, a0, b1);
        MADD(s10, a1, b0); MADD(s11, a1, b1);
        MADD(s20, a2, b0); MADD(s21, a2, b1);
        MADD(s30, a3, b0); MADD(s31, a3, b1);
      }
      float *o = c + r * n + j;
      wasm_v128_store(o, s00); wasm_v128_store(o + 4, s01);
      wasm_v128_store(o + n, s10); wasm_v128_store(o + n + 4, s11);
      wasm_v128_store(o + 2 * n, s20); wasm_v128_store(o + 2 * n + 4, s21);
      wasm_v128_store(o + 3 * n, s30); wasm_v128_store(o + 3 * n + 4, s31);
    }
    for (; j < n; j++) {
      for (int rr = r; rr < r + 4; rr++) c[rr * n + j] = row_times_column(a, b, rr, j, k, n);
    }
  }
  for (; r < m; r++) {
    for (int j = 0; j < n; j++) c[r * n + j] = row_times_column(a, b, r, j, k, n);
  }
}

/*
 * da [m, k] = dc [m, n] * b^T for b [k, n]: b (a weight, small) is
 * transposed into scratch (k * n floats) and the product runs as forward.
 */
void matmul_grad_a(const float *dc, const float *b, float *da, float *scratch,
                   int m, int k, int n) {
  for (int i = 0; i < k; i++) {
    for (int j = 0; j < n; j++) scratch[j * k + i] = b[i * n + j];
  }
  matmul_forward(dc, scratch, da, m, n, k);
}

/* The scalar sum over rows of a[:, i] * dc[:, j] (tails of the blocked loops). */
static float column_dot(const float *a, const float *dc, int i, int j, int m, int k, int n) {
  float s = 0.0f;
  for (int r = 0; r < m; r++) s += a[r * k + i] * dc[r * n + j];
  return s;
}

/* db [k, n] = a^T * dc for a [m, k] and dc [m, n]. */
void matmul_grad_b(const float *a, const float *dc, float *db, int m, int k, int n) {
  int i = 0;
  for (; i + 4 <= k; i += 4) {
    int j = 0;
    for (; j + 8 <= n; j += 8) {
      v128_t s00 = wasm_f32x4_splat(0.0f), s01 = s00, s10 = s00, s11 = s00;
      v128_t s20 = s00, s21 = s00, s30 = s00, s31 = s00;
      for (int r = 0; r < m; r++) {
        const float *ar = a + r * k + i, *dr = dc + r * n + j;
        v128_t d0 = wasm_v128_load(dr), d1 = wasm_v128_load(dr + 4);
        v128_t a0 = wasm_f32x4_splat(ar[0]), a1 = wasm_f32x4_splat(ar[1]);
        v128_t a2 = wasm_f32x4_splat(ar[2]), a3 = wasm_f32x4_splat(ar[3]);
        MADD(s00, a0, d0); MADD(s01, a0, d1);
        MADD(s10, a1, d0); MADD(s11, a1, d1);
        MADD(s20, a2, d0); MADD(s21, a2, d1);
        MADD(s30, a3, d0); MADD(s31, a3, d1);
      }
      float *o = db + i * n + j;
      wasm_v128_store(o, s00); wasm_v128_store(o + 4, s01);
      wasm_v128_store(o + n, s10); wasm_v128_store(o + n + 4, s11);
      wasm_v128_store(o + 2 * n, s20); wasm_v128_store(o + 2 * n + 4, s21);
      wasm_v128_store(o + 3 * n, s30); wasm_v128_store(o + 3 * n + 4, s31);
    }
    for (; j < n; j++) {
      for (int ii = i; ii < i + 4; ii++) db[ii * n + j] = column_dot(a, dc, ii, j, m, k, n);
    }
  }
  for (; i < k; i++) {
    for (int j = 0; j < n; j++) db[i * n + j] = column_dot(a, dc, i, j, m, k, n);
  }
}
