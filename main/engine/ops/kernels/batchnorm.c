/*
 * Training-mode batch normalisation, optionally followed by ReLU6, as one
 * kernel forward and one backward, over rows [m, c] (all of N, H, W folded
 * into m). Written out from elementwise tfjs ops the same work took about
 * 15 kernel calls forward and 20 backward per BN.
 *
 * The backward recomputes the normalised input from x, mean and 1/std
 * instead of keeping it: x is held for the conv's filter gradient anyway, so
 * the BN costs no extra memory between forward and backward.
 */
#include <wasm_simd128.h>

void affine_forward(const float *x, const float *scale, const float *shift, float *y,
                    int m, int c, int relu6);

/* g where ReLU6 passed its input z (0 < z < 6), else 0: four lanes, then one. */
static inline v128_t relu6_gate4(v128_t g, v128_t z) {
  v128_t open = wasm_v128_and(wasm_f32x4_gt(z, wasm_f32x4_splat(0.0f)),
                              wasm_f32x4_lt(z, wasm_f32x4_splat(6.0f)));
  return wasm_v128_and(g, open);
}

static inline float relu6_gate(float g, float z) {
  return z > 0.0f && z < 6.0f ? g : 0.0f;
}

static float rsqrt_of(float v) {
  return 1.0f / __builtin_sqrtf(v);
}

/*
 * y = act((x - mean) * rstd * gamma + beta), with mean and the biased
 * variance over the m rows; act is ReLU6 when relu6 != 0, else identity.
 * mean, variance and rstd ([c] each) are written for the caller; scratch
 * holds 2c floats.
 */
void batchnorm_forward(const float *x, const float *gamma, const float *beta, float *y,
                       float *mean, float *variance, float *rstd, float *scratch,
                       int m, int c, float eps, int relu6) {
  for (int ch = 0; ch < c; ch++) mean[ch] = 0.0f, variance[ch] = 0.0f;

  int c4 = c & ~3;
  for (int r = 0; r < m; r++) {
    const float *row = x + r * c;
    int ch = 0;
    for (; ch < c4; ch += 4) {
      wasm_v128_store(mean + ch, wasm_f32x4_add(wasm_v128_load(mean + ch),
                                                wasm_v128_load(row + ch)));
    }
    for (; ch < c; ch++) mean[ch] += row[ch];
  }
  for (int ch = 0; ch < c; ch++) mean[ch] /= (float)m;

  for (int r = 0; r < m; r++) {
    const float *row = x + r * c;
    int ch = 0;
    for (; ch < c4; ch += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(row + ch), wasm_v128_load(mean + ch));
      wasm_v128_store(variance + ch,
                      wasm_f32x4_add(wasm_v128_load(variance + ch), wasm_f32x4_mul(d, d)));
    }
    for (; ch < c; ch++) {
      float d = row[ch] - mean[ch];
      variance[ch] += d * d;
    }
  }
  for (int ch = 0; ch < c; ch++) {
    variance[ch] /= (float)m;
    rstd[ch] = rsqrt_of(variance[ch] + eps);
  }

  /* Folded into one multiply-add per element: y = x * scale + shift. */
  float *scale = scratch, *shift = scratch + c;
  for (int ch = 0; ch < c; ch++) {
    scale[ch] = gamma[ch] * rstd[ch];
    shift[ch] = beta[ch] - mean[ch] * scale[ch];
  }
  affine_forward(x, scale, shift, y, m, c, relu6);
}

/*
 * Gradients of batchnorm_forward. With g = dy masked by ReLU6's open
 * interval (0, 6) on the pre-activation, xhat = (x - mean) * rstd:
 * dbeta = sum g, dgamma = sum g * xhat,
 * dx = gamma * rstd * (g - dbeta / m - xhat * dgamma / m). scratch holds 4c floats.
 */
void batchnorm_backward(const float *dy, const float *x, const float *gamma,
                        const float *beta, const float *mean, const float *rstd,
                        float *dx, float *dgamma, float *dbeta, float *scratch,
                        int m, int c, int relu6) {
  float *scale = scratch, *shift = scratch + c, *a = scratch + 2 * c, *b = scratch + 3 * c;
  for (int ch = 0; ch < c; ch++) {
    dgamma[ch] = 0.0f, dbeta[ch] = 0.0f;
    scale[ch] = gamma[ch] * rstd[ch];
    shift[ch] = beta[ch] - mean[ch] * scale[ch];
  }
  int c4 = c & ~3;

  /* Pass 1: the sums. dgamma gathers g * (x - mean); rstd is applied once after. */
  for (int r = 0; r < m; r++) {
    const float *row = x + r * c, *grow = dy + r * c;
    int ch = 0;
    for (; ch < c4; ch += 4) {
      v128_t xv = wasm_v128_load(row + ch);
      v128_t g = wasm_v128_load(grow + ch);
      if (relu6) {
        v128_t z = wasm_f32x4_add(wasm_f32x4_mul(xv, wasm_v128_load(scale + ch)),
                                  wasm_v128_load(shift + ch));
        g = relu6_gate4(g, z);
      }
      v128_t centred = wasm_f32x4_sub(xv, wasm_v128_load(mean + ch));
      wasm_v128_store(dbeta + ch, wasm_f32x4_add(wasm_v128_load(dbeta + ch), g));
      wasm_v128_store(dgamma + ch,
                      wasm_f32x4_add(wasm_v128_load(dgamma + ch), wasm_f32x4_mul(g, centred)));
    }
    for (; ch < c; ch++) {
      float g = grow[ch];
      if (relu6) {
        float z = row[ch] * scale[ch] + shift[ch];
        g = relu6_gate(g, z);
      }
      dbeta[ch] += g;
      dgamma[ch] += g * (row[ch] - mean[ch]);
    }
  }

  /*
   * Pass 2, per element: dx = scale * g - (scale * dbeta / m + xhat * scale * dgamma / m)
   * = scale * g - a - (x - mean) * b, with a and b per channel.
   */
  for (int ch = 0; ch < c; ch++) {
    dgamma[ch] *= rstd[ch];
    a[ch] = scale[ch] * dbeta[ch] / (float)m;
    b[ch] = scale[ch] * dgamma[ch] * rstd[ch] / (float)m;
  }
  for (int r = 0; r < m; r++) {
    const float *row = x + r * c, *grow = dy + r * c;
    float *out = dx + r * c;
    int ch = 0;
    for (; ch < c4; ch += 4) {
      v128_t xv = wasm_v128_load(row + ch);
      v128_t g = wasm_v128_load(grow + ch);
      v128_t sc = wasm_v128_load(scale + ch);
      if (relu6) {
        v128_t z = wasm_f32x4_add(wasm_f32x4_mul(xv, sc), wasm_v128_load(shift + ch));
        g = relu6_gate4(g, z);
      }
      v128_t centred = wasm_f32x4_sub(xv, wasm_v128_load(mean + ch));
      v128_t v = wasm_f32x4_sub(wasm_f32x4_mul(sc, g), wasm_v128_load(a + ch));
      wasm_v128_store(out + ch, wasm_f32x4_sub(v, wasm_f32x4_mul(centred, wasm_v128_load(b + ch))));
    }
    for (; ch < c; ch++) {
      float g = grow[ch];
      if (relu6) {
        float z = row[ch] * scale[ch] + shift[ch];
        g = relu6_gate(g, z);
      }
      out[ch] = scale[ch] * g - a[ch] - (row[ch] - mean[ch]) * b[ch];
    }
  }
}

/*
 * Evaluation-mode batch normalisation folded into a per-channel affine map,
 * optionally followed by ReLU6: y = act(x * scale + shift).
 */
void affine_forward(const float *x, const float *scale, const float *shift, float *y,
                    int m, int c, int relu6) {
  v128_t zero = wasm_f32x4_splat(0.0f), six = wasm_f32x4_splat(6.0f);
  for (int r = 0; r < m; r++) {
    const float *row = x + r * c;
    float *out = y + r * c;
    int ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      v128_t v = wasm_f32x4_add(
          wasm_f32x4_mul(wasm_v128_load(row + ch), wasm_v128_load(scale + ch)),
          wasm_v128_load(shift + ch));
      if (relu6) v = wasm_f32x4_min(wasm_f32x4_max(v, zero), six);
      wasm_v128_store(out + ch, v);
    }
    for (; ch < c; ch++) {
      float v = row[ch] * scale[ch] + shift[ch];
      if (relu6) v = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
      out[ch] = v;
    }
  }
}

/* dx of affine_forward: dy * scale, where ReLU6 (if any) passed its input. */
void affine_backward(const float *dy, const float *x, const float *scale, const float *shift,
                     float *dx, int m, int c, int relu6) {
  for (int r = 0; r < m; r++) {
    const float *row = x + r * c, *grow = dy + r * c;
    float *out = dx + r * c;
    int ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      v128_t sc = wasm_v128_load(scale + ch);
      v128_t g = wasm_f32x4_mul(wasm_v128_load(grow + ch), sc);
      if (relu6) {
        v128_t z = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(row + ch), sc),
                                  wasm_v128_load(shift + ch));
        g = relu6_gate4(g, z);
      }
      wasm_v128_store(out + ch, g);
    }
    for (; ch < c; ch++) {
      float g = grow[ch] * scale[ch];
      if (relu6) {
        float z = row[ch] * scale[ch] + shift[ch];
        g = relu6_gate(g, z);
      }
      out[ch] = g;
    }
  }
}
