/* The paper's LeNet-5 (Sec. II-B) forward and backward in plain C, for the CPU (lenet5/fused.py).

   The network of lenet5/model.py with ModelConfig's paper choices: C1 6@5x5, S2 (2x2 sum x
   coefficient + bias), C3 wired by Table I, S4, C5 120, F6 84, each followed by f(a) = A tanh(S a),
   and the RBF output against the Fig. 3 bitmaps; loss eq. 9 (MAP) or eq. 8 (MSE). One call runs
   a whole mini-batch: no autograd graph, no per-layer allocation, each sample's maps stay in cache.

   Rounding is this file's own (a rational tanh, its own summation order), not PyTorch's; it
   depends on the compiler and the CPU, never on the thread count: the batch is cut into at most
   8 groups by its size alone, each group's gradient is summed in sample order, and the groups
   are added in group order.

   Vectors of the CPU's own width (GCC/Clang vector extensions, see VW below). Layouts (float32): an input is 32x32; C1's maps are 28 rows of 32 (columns 28..31
   unused), S2's 14 rows of 16, C3's 10x10 flat in 112, S4's 16x5x5 flat as PyTorch flattens it.
   Unused columns let every row be read as whole vectors; their gradients are kept at 0. */

#include <math.h>
#include <stdint.h>
#include <string.h>

#define A 1.7159f           /* eq. 6 */
#define S 0.6666666666666666f
#define AS (A * S)          /* f'(a) = A S (1 - tanh(S a)^2) */

enum {
    IN = 32, IN_PLANE = IN * IN + 16,  /* a padded copy: row reads may run 4 floats past the end */
    C1M = 6, C1 = 28, C1W = 32,
    S2 = 14, S2W = 16, S2_PLANE = S2 * S2W + 16,
    C3M = 16, C3 = 10, C3P = 112,      /* C3's 10x10 maps flat, padded to 7 vectors */
    XS = 160,                          /* an S2 map shifted by a column tap: 14 rows of 10, padded */
    S4 = 5, S4N = C3M * S4 * S4,       /* 400: C5's inputs */
    C5N = 120, F6N = 84, CLASSES = 10,
    PAD = 4, P_W = 24,                 /* C3's output gradient rows, zero-padded for the full convolution */
    TILE = 8,                          /* samples whose maps are kept together (C5 and F6 run on a tile) */
};

/* parameter order, as LeNet5.parameters() yields them */
enum { W1, B1, W2, B2, W3, B3, W4, B4, W5, B5, W6, B6, PARAMS };
static const int SIZES[PARAMS] = {C1M * 25, C1M, C1M, C1M, C3M * C1M * 25, C3M, C3M, C3M, C5N * S4N, C5N, F6N * C5N, F6N};

int lenet5_grad_floats(void) {
    int n = 0;
    for (int i = 0; i < PARAMS; i++) n += SIZES[i];
    return n;
}

/* tanh as a rational function, y P(y^2) / Q(y^2) with P of degree 4 and Q of degree 3, fitted to
   tanh on [0, TANH_CLAMP] with P(0) = Q(0) = 1 (benchmarks/tanh_fit.py, which checks every float32
   input): within 5.1e-7 of tanh (4.8e-7 with fused multiply-adds), odd, never above 1 (1 exactly
   for some inputs near 7.7, 1 - 4.8e-7 from the clamp on: not monotone in its last bits), NaN stays
   NaN. The same steps on one float (tanh_r) and on a vector (tanh_v, squash's loop): y is clamped
   to +-TANH_CLAMP, the polynomials are evaluated in y^2. It replaced Eigen's float tanh (degrees 6
   and 3, within 2.9e-7, tiny inputs passed through): inference 1.07-1.08x faster on AVX2, in other
   rounding (docs/performance.md). */
#define TANH_CLAMP 7.90531110763549805f
#define TANH_RATIO(y, y2, T) ({                                                   \
    T p_ = (y2) * -6.248553230392417e-09f + 7.220610768854385e-06f;                \
    p_ = p_ * (y2) + 2.7040583081543446e-03f;                                      \
    p_ = p_ * (y2) + 1.2719808518886566e-01f;                                      \
    p_ = p_ * (y2) + 1.0f;                                                         \
    T q_ = (y2) * 1.9773245730903e-04f + 2.288278378546238e-02f;                   \
    q_ = q_ * (y2) + 4.6053004264831543e-01f;                                      \
    q_ = q_ * (y2) + 1.0f;                                                         \
    (y) * p_ / q_; })

static inline float tanh_r(float x) {
    float y = x > TANH_CLAMP ? TANH_CLAMP : x;
    y = y < -TANH_CLAMP ? -TANH_CLAMP : y;
    return TANH_RATIO(y, y * y, float);
}

/* One sample's maps: what the backward pass reads. t* = tanh(S a) of each layer (f = A t). */
typedef struct {
    float img[IN_PLANE];
    float t1[C1M][C1][C1W];
    float sum2[C1M][S2][S2W];   /* S2's 2x2 sums of C1's outputs (columns 14, 15 unused) */
    float t2[C1M][S2][S2W];
    float xs[C1M][5][XS];       /* S2's outputs shifted by each column tap kx (shifted_inputs) */
    float t3[C3M][C3P];
    float sum4[S4N];
    float t4[S4N];
} Maps;

/* A tile: its samples' maps and the fully connected layers' vectors. */
typedef struct {
    Maps m[TILE];
    float x4[TILE][S4N];                 /* S4's outputs: C5's inputs */
    float t5[TILE][C5N], x5[TILE][C5N];
    float t6[TILE][F6N], x6[TILE][F6N];
    float d5[TILE][C5N], d6[TILE][F6N];   /* gradients w.r.t. C5's and F6's sums a */
    float dx4[TILE][S4N], dx5[TILE][C5N];
    float x2[C1M][S2_PLANE];             /* S2's outputs, rows of S2W, zero beyond */
    float right[C1M][5][32];             /* S2's outputs that C3's columns 8, 9 meet (c3_forward) */
    float gathered[5 * IN * 12 + C1M * C1 * 12];  /* C1's last columns (c1_forward), up to 12 of them */
    float da3[C3M][C3P];                 /* one sample at a time from here on */
    float pad3[C3M][C3][P_W];            /* zero but for columns PAD..PAD+9 */
    float dx2[C1M][S2 * S2W];
    float da1[C1M][C1][C1W];
} Tile;

size_t lenet5_work_bytes(void) { return sizeof(Tile) + 64; }

static Tile *tile_of(void *work) { return (Tile *)(((uintptr_t)work + 63) & ~(uintptr_t)63); }

/* Vectors of VW floats, the CPU's own width, chosen when the file is compiled: 16 with AVX-512,
   8 with AVX/AVX2, 4 otherwise (SSE2, NEON). A wider vector than the CPU has would live in
   memory, not registers (GCC lowers it piecewise through the stack: 7x slower on AVX2).

   Sums are written over blocks of 16 floats (LANES), each block held in 16 / VW vectors, and
   reduced in one fixed order (halves added pairwise: 16 -> 8 -> 4 -> 1), so every width adds the
   same numbers in the same order. The results still differ in their last bits between widths
   (LENET5_VW=4, 8 and 16 built for one AVX2 machine: scores and gradients within 1.3e-4 of
   each other): the compiler contracts a * b + c into one FMA in some places and not in others,
   per width, and a squash's scalar tail (tanh_r) rounds otherwise than its vectors. A seed's
   weights are its build's, as they are its CPU's. */
#if defined(LENET5_VW)  /* a width forced at build time (the tests build every width and compare) */
#define VW LENET5_VW
#elif defined(__AVX512F__)
#define VW 16
#elif defined(__AVX__)
#define VW 8
#else
#define VW 4
#endif
#define TW (VW < 8 ? VW : 8)  /* the vectors of an 8-float tail: F6 reads 120 = 7 x 16 + 8 */
enum { LANES = 16, NV = LANES / VW, NT = 8 / TW };
typedef float vn __attribute__((vector_size(VW * 4)));
typedef float vt __attribute__((vector_size(TW * 4)));

typedef float v4 __attribute__((vector_size(16)));
typedef int32_t vni __attribute__((vector_size(VW * 4)));

static inline vn load(const float *p) { vn v; memcpy(&v, p, sizeof v); return v; }
static inline void store(float *p, vn v) { memcpy(p, &v, sizeof v); }
static inline vt loadt(const float *p) { vt v; memcpy(&v, p, sizeof v); return v; }
static inline void storet(float *p, vt v) { memcpy(p, &v, sizeof v); }

static inline float sum8(const float *a) {  /* 8 -> 4 -> 1 */
    const float b0 = a[0] + a[4], b1 = a[1] + a[5], b2 = a[2] + a[6], b3 = a[3] + a[7];
    return (b0 + b1) + (b2 + b3);
}
static inline float sum16(const float *a) {  /* 16 -> 8, then sum8 */
    float b[8];
    for (int i = 0; i < 8; i++) b[i] = a[i] + a[i + 8];
    return sum8(b);
}
static inline float sum4(v4 b) { return (b[0] + b[1]) + (b[2] + b[3]); }
#if TW == 8
static inline v4 half8(vt a) {  /* 8 -> 4: lanes i and i + 4 */
    return __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
}
#endif
/* one block of 16 lanes held in NV vectors, summed in registers in sum16's order: to 4 lanes
   (lanes_four), then to one (sum4) */
static inline v4 lanes_four(const vn v[NV]) {
#if VW == 16
    const vt h = __builtin_shufflevector(v[0], v[0], 0, 1, 2, 3, 4, 5, 6, 7) +
                 __builtin_shufflevector(v[0], v[0], 8, 9, 10, 11, 12, 13, 14, 15);
    return half8(h);
#elif VW == 8
    return half8(v[0] + v[1]);
#else
    return (v[0] + v[2]) + (v[1] + v[3]);
#endif
}
static inline float lanes_sum(const vn v[NV]) { return sum4(lanes_four(v)); }
/* sum4 of four vectors at once: lane k is sum4(b[k]), the same additions in the same order */
static inline v4 sum4_of_four(v4 b0, v4 b1, v4 b2, v4 b3) {
    const v4 p = __builtin_shufflevector(b0, b1, 0, 2, 4, 6) + __builtin_shufflevector(b0, b1, 1, 3, 5, 7);
    const v4 q = __builtin_shufflevector(b2, b3, 0, 2, 4, 6) + __builtin_shufflevector(b2, b3, 1, 3, 5, 7);
    return __builtin_shufflevector(p, q, 0, 2, 4, 6) + __builtin_shufflevector(p, q, 1, 3, 5, 7);
}
static inline float tail_sum(const vt v[NT]) {  /* 8 lanes held in NT vectors */
#if TW == 8
    return sum4(half8(v[0]));
#else
    return sum4(v[0] + v[1]);
#endif
}

/* v kept in a register: without it the compiler folds each use's load into its own multiply-add
   and loads v again for every use (x86, where vn is one of its registers) */
#if (VW == 16 && defined(__AVX512F__)) || (VW == 8 && defined(__AVX__)) || (VW == 4 && defined(__SSE__))
#define IN_REGISTER(v) __asm__("" : "+v"(v))
#else
#define IN_REGISTER(v) ((void)0)
#endif
static const int32_t COLUMN[LANES] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};  /* lane numbers */
static inline vn splat(float x) { return x - (vn){0}; }  /* x in every lane, exactly (0 + x would turn -0 into +0) */
static inline vn pick(vni m, vn a, vn b) { return (vn)(((vni)a & m) | ((vni)b & ~m)); }  /* m ? a : b, lane by lane */

/* x clamped to +-TANH_CLAMP, NaN kept. x86 has min and max: one each instead of two compares and
   two blends (tanh 1.2x faster on AVX2); their operand order keeps NaN, as the second operand is
   returned when either is NaN. Elsewhere (NEON, or a width the CPU lacks) compares and picks. */
#if defined(__SSE__) || defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
static inline vn clamp_v(vn x) {
    const vn c = (vn){0} + TANH_CLAMP;
#if VW == 16 && defined(__AVX512F__)
    return (vn)_mm512_min_ps((__m512)c, _mm512_max_ps((__m512)-c, (__m512)x));
#elif VW == 8 && defined(__AVX__)
    return (vn)_mm256_min_ps((__m256)c, _mm256_max_ps((__m256)-c, (__m256)x));
#elif VW == 4 && defined(__SSE__)
    return (vn)_mm_min_ps((__m128)c, _mm_max_ps((__m128)-c, (__m128)x));
#else
    const vn y = pick(x > c, c, x);
    return pick(y < -c, -c, y);
#endif
}

static inline vn tanh_v(vn x) {  /* tanh_r on every lane, without branches */
    const vn y = clamp_v(x);
    return TANH_RATIO(y, y * y, vn);
}

/* t[i] = tanh(S a[i]) for n values, in place */
static void squash(float *restrict a, int n) {
    int i = 0;
    for (; i + VW <= n; i += VW) store(a + i, tanh_v(S * load(a + i)));
    for (; i < n; i++) a[i] = tanh_r(S * a[i]);
}

/* --- forward -------------------------------------------------------------------------------- */

/* C1's outputs are 28 columns, rows of 32 in t1: the first MAIN columns of each row are whole
   vectors, and the last GATHER columns of all 28 rows are gathered into whole vectors of their
   own, so no multiply-add and no tanh is spent on columns 28..31 (C1 1.1x faster on AVX2). */
enum { MAIN = 24 / VW * VW, GATHER = C1 - MAIN, MAINV = C1 * MAIN / VW, GATHERV = C1 * GATHER / VW };

/* 6 maps x 2 vectors of accumulators (12 of the 16 (AVX2) or 32 (AVX-512) registers): the sums of
   the two vectors whose tap (ky, kx) reads in0 (in1) + ky ys + kx xs, stored at out0 (out1) +
   c cs for map c */
static inline __attribute__((always_inline)) void c1_block(const float *restrict w, const float *restrict b,
                                                           const float *in0, const float *in1, int ys, int xs,
                                                           float *out0, float *out1, int cs) {
    vn acc[C1M][2];
    for (int c = 0; c < C1M; c++) acc[c][0] = acc[c][1] = (vn){0} + b[c];
    for (int ky = 0; ky < 5; ky++)
        for (int kx = 0; kx < 5; kx++) {
            const vn lo = load(in0 + ky * ys + kx * xs), hi = load(in1 + ky * ys + kx * xs);
            for (int c = 0; c < C1M; c++) {
                const float wk = w[c * 25 + ky * 5 + kx];
                acc[c][0] += wk * lo;
                acc[c][1] += wk * hi;
            }
        }
    for (int c = 0; c < C1M; c++) {
        store(out0 + c * cs, acc[c][0]);
        store(out1 + c * cs, acc[c][1]);
    }
}

/* t1 = tanh(S a) of C1's 28 columns, columns 28..31 set to 0 (S2 reads them as whole vectors, and
   the backward pass multiplies their zero gradients by 1 - t1^2, which must stay finite).
   gathered: scratch, the input's last columns (5 column taps x 32 rows x GATHER), then C1's. */
static void c1_forward(const float *restrict img, const float *restrict w, const float *restrict b, float t1[C1M][C1][C1W],
                       float *restrict gathered) {
    const int plane = IN * GATHER;  /* gathered[kx][y GATHER + x] = img[y][MAIN + kx + x] */
    for (int kx = 0; kx < 5; kx++)
        for (int y = 0; y < IN; y++) memcpy(gathered + kx * plane + y * GATHER, img + y * IN + MAIN + kx, sizeof(float) * GATHER);
    float *sums = gathered + 5 * plane;  /* sums[c][r GATHER + x]: C1's map c at row r, column MAIN + x */
    const int cs = C1 * C1W, gs = C1 * GATHER;
    for (int k = 0; k < MAINV; k += 2) {  /* vectors k and k + 1 of the rows' first MAIN columns */
        const int r0 = k / (MAIN / VW), x0 = k % (MAIN / VW) * VW, r1 = (k + 1) / (MAIN / VW), x1 = (k + 1) % (MAIN / VW) * VW;
        c1_block(w, b, img + r0 * IN + x0, img + r1 * IN + x1, IN, 1, &t1[0][r0][x0], &t1[0][r1][x1], cs);
    }
    for (int k = 0; k < GATHERV; k += 2) {  /* an odd count: the last vector twice */
        const int k1 = k + 1 < GATHERV ? k + 1 : k;
        c1_block(w, b, gathered + k * VW, gathered + k1 * VW, GATHER, plane, sums + k * VW, sums + k1 * VW, gs);
    }
    squash(sums, C1M * gs);
    for (int c = 0; c < C1M; c++)
        for (int r = 0; r < C1; r++) {
            squash(t1[c][r], MAIN);
            memcpy(&t1[c][r][MAIN], sums + c * gs + r * GATHER, sizeof(float) * GATHER);
            memset(&t1[c][r][C1], 0, sizeof(float) * (C1W - C1));
        }
}

/* the even and the odd lanes of two vectors a, b (a's first): the left and right columns of S2's 2x2 blocks */
#if VW == 16
#define EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#elif VW == 8
#define EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#else
#define EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
#endif

static void s2_forward(Maps *m, const float *coef, const float *bias, float x2[C1M][S2_PLANE]) {
    for (int c = 0; c < C1M; c++)
        for (int i = 0; i < S2; i++) {
            /* two C1 rows added, then neighbouring columns: 32 columns -> 16 sums (the last two unused) */
            const float *r0 = m->t1[c][2 * i], *r1 = m->t1[c][2 * i + 1];
            for (int q = 0; q < S2W; q += VW) {
                const vn a = load(r0 + 2 * q) + load(r1 + 2 * q), b = load(r0 + 2 * q + VW) + load(r1 + 2 * q + VW);
                const vn sum = A * (EVENS(a, b) + ODDS(a, b));
                store(&m->sum2[c][i][q], sum);
                const vn t = tanh_v(S * (coef[c] * sum + bias[c]));
                store(&m->t2[c][i][q], t);
                store(&x2[c][i * S2W + q], A * t);
            }
            x2[c][i * S2W + S2] = x2[c][i * S2W + S2 + 1] = 0.0f;  /* S2's 14 columns of 16 */
        }
    for (int c = 0; c < C1M; c++) memset(&x2[c][S2 * S2W], 0, sizeof(float) * (S2_PLANE - S2 * S2W));
}

/* m->xs[i][kx] = rows of 10: row r is S2 map i's row r from column kx on (S2's outputs A t2, 0
   beyond). The inputs that C3's tap (ky, kx) meets over its 10x10 outputs are then the 100 floats
   from xs[i][kx] + 10 ky: C3's weight gradient reads them so, and c3_forward where VW < 8. */
static void shifted_inputs(Maps *m) {
    for (int i = 0; i < C1M; i++) {
        for (int r = 0; r < S2; r++) {
            float row[S2W];
            for (int q = 0; q < S2W; q++) row[q] = A * m->t2[i][r][q];  /* columns 14, 15 unused: kx + 9 <= 13 */
            for (int kx = 0; kx < 5; kx++) memcpy(&m->xs[i][kx][r * C3], row + kx, sizeof(float) * C3);
        }
        for (int kx = 0; kx < 5; kx++) memset(&m->xs[i][kx][S2 * C3], 0, sizeof(float) * (XS - S2 * C3));
    }
}

#if VW >= 8
/* C3's sums by rows: each output row's columns 0..7 are one 8-float vector, read straight from
   S2's rows of 16 (a row never crosses a cache line, as 10 ky floats would), and the columns 8, 9
   of the 10 rows are 20 floats in 3 more vectors: 13 accumulators (104 positions, not 112) and
   no shifted copies (C3 1.2x faster on AVX2); each sum adds the same products in the same order. */
static void c3_forward(Maps *m, const float x2[C1M][S2_PLANE], float right[C1M][5][32], const float *restrict w,
                       const float *restrict b, const uint8_t *table) {
    for (int i = 0; i < C1M; i++)  /* right[i][kx][2 r + c] = S2 map i's row r, column 8 + kx + c */
        for (int kx = 0; kx < 5; kx++) {
            for (int r = 0; r < S2; r++) memcpy(&right[i][kx][2 * r], &x2[i][r * S2W + 8 + kx], 2 * sizeof(float));
            memset(&right[i][kx][2 * S2], 0, sizeof(float) * (32 - 2 * S2));
        }
    for (int o = 0; o < C3M; o++) {
        vt rows[C3], cols[3];  /* vt: 8 floats where VW >= 8 */
        for (int r = 0; r < C3; r++) rows[r] = (vt){0} + b[o];
        for (int v = 0; v < 3; v++) cols[v] = (vt){0} + b[o];
        for (int i = 0; i < C1M; i++) {
            if (!table[o * C1M + i]) continue;
#pragma GCC unroll 5
            for (int ky = 0; ky < 5; ky++)
#pragma GCC unroll 5
                for (int kx = 0; kx < 5; kx++) {
                    const float wk = w[(o * C1M + i) * 25 + ky * 5 + kx];
                    for (int r = 0; r < C3; r++) rows[r] += wk * loadt(&x2[i][(r + ky) * S2W + kx]);
                    for (int v = 0; v < 3; v++) cols[v] += wk * loadt(&right[i][kx][2 * ky + 8 * v]);
                }
        }
        float c[24];
        for (int v = 0; v < 3; v++) storet(c + 8 * v, cols[v]);
        for (int r = 0; r < C3; r++) {  /* row r: 8 columns, then 2 */
            storet(&m->t3[o][r * C3], rows[r]);
            m->t3[o][r * C3 + 8] = c[2 * r], m->t3[o][r * C3 + 9] = c[2 * r + 1];
        }
        memset(&m->t3[o][C3 * C3], 0, sizeof(float) * (C3P - C3 * C3));
    }
    squash(&m->t3[0][0], C3M * C3P);
}
#else
/* C3's sums by vectors of the 10x10 positions, from the shifted copies of S2's outputs (xs; a
   training step builds them again for the backward pass: a small cost where VW is 4) */
static void c3_forward(Maps *m, const float x2[C1M][S2_PLANE], float right[C1M][5][32], const float *restrict w,
                       const float *restrict b, const uint8_t *table) {
    (void)x2, (void)right;
    shifted_inputs(m);
    for (int o = 0; o < C3M; o++) {
        vn acc[C3P / VW];
        for (int v = 0; v < C3P / VW; v++) acc[v] = (vn){0} + b[o];
        for (int i = 0; i < C1M; i++) {
            if (!table[o * C1M + i]) continue;
            for (int ky = 0; ky < 5; ky++)
                for (int kx = 0; kx < 5; kx++) {
                    const float wk = w[(o * C1M + i) * 25 + ky * 5 + kx];
                    const float *in = &m->xs[i][kx][ky * C3];
                    for (int v = 0; v < C3P / VW; v++) acc[v] += wk * load(in + VW * v);
                }
        }
        for (int v = 0; v < C3P / VW; v++) store(&m->t3[o][VW * v], acc[v]);
    }
    squash(&m->t3[0][0], C3M * C3P);
}
#endif

static void s4_forward(Maps *m, const float *coef, const float *bias, float *restrict x4) {
    for (int c = 0; c < C3M; c++)
        for (int i = 0; i < S4; i++)
            for (int j = 0; j < S4; j++) {
                const float *t = &m->t3[c][2 * i * C3 + 2 * j];
                const float s = A * t[0] + A * t[1] + A * t[C3] + A * t[C3 + 1];
                const int n = (c * S4 + i) * S4 + j;
                m->sum4[n] = s;
                m->t4[n] = coef[c] * s + bias[c];
            }
    squash(m->t4, S4N);
    for (int n = 0; n < S4N; n++) x4[n] = A * m->t4[n];
}

enum { SWEEP = TILE / NV };  /* samples C5 and F6 run at once: SWEEP x NV = 8 accumulators in registers (16 would spill on AVX2) */

/* t[s][o] = b[o] + sum_k w[o][k] x[s][k] for m <= SWEEP samples: a constant m, once inlined,
   keeps the m x NV accumulators in registers */
static inline __attribute__((always_inline)) void full_sums(int m, int outs, int len, const float *restrict x,
                                                           const float *restrict wo, float bo, float *restrict t) {
    const int tail = len - len % LANES;
    vn acc[SWEEP][NV];
    vt acct[SWEEP][NT];
    for (int s = 0; s < m; s++) {
        for (int v = 0; v < NV; v++) acc[s][v] = (vn){0};
        for (int v = 0; v < NT; v++) acct[s][v] = (vt){0};
    }
    for (int k = 0; k < tail; k += LANES)
        for (int v = 0; v < NV; v++) {
            const vn wv = load(wo + k + VW * v);
            for (int s = 0; s < m; s++) acc[s][v] += wv * load(x + s * len + k + VW * v);
        }
    if (tail < len)
        for (int s = 0; s < m; s++)
            for (int v = 0; v < NT; v++) acct[s][v] = loadt(wo + tail + TW * v) * loadt(x + s * len + tail + TW * v);
    for (int s = 0; s < m; s++) t[s * outs] = bo + (lanes_sum(acc[s]) + tail_sum(acct[s]));
}

/* t[n][o] = tanh(S (b[o] + sum_k w[o][k] x[n][k])), y = A t, for the tile's n samples; len % 8 == 0 */
static void full_forward(int n, int outs, int len, const float *restrict x, const float *restrict w,
                         const float *restrict b, float *restrict t, float *restrict y) {
    for (int o = 0; o < outs; o++) {
        int s0 = 0;
        for (; s0 + SWEEP <= n; s0 += SWEEP) full_sums(SWEEP, outs, len, x + s0 * len, w + o * len, b[o], t + s0 * outs + o);
        for (; s0 < n; s0++) full_sums(1, outs, len, x + s0 * len, w + o * len, b[o], t + s0 * outs + o);
    }
    squash(t, n * outs);
    for (int i = 0; i < n * outs; i++) y[i] = A * t[i];
}

/* the input row of sample s: idx[s], or s itself without idx */
static inline int64_t row_of(const int64_t *idx, int s) { return idx ? idx[s] : s; }

/* the samples first..first+n-1 of the batch, forward, into the tile */
static void tile_forward(Tile *t, int first, int n, const float *inputs, const int64_t *idx, const float *const *p,
                         const uint8_t *table) {
    for (int s = 0; s < n; s++) {
        Maps *m = &t->m[s];
        memcpy(m->img, inputs + row_of(idx, first + s) * (IN * IN), sizeof(float) * IN * IN);
        memset(m->img + IN * IN, 0, sizeof(float) * (IN_PLANE - IN * IN));
        c1_forward(m->img, p[W1], p[B1], m->t1, t->gathered);
        s2_forward(m, p[W2], p[B2], t->x2);
        c3_forward(m, t->x2, t->right, p[W3], p[B3], table);
        s4_forward(m, p[W4], p[B4], t->x4[s]);
    }
    full_forward(n, C5N, S4N, &t->x4[0][0], p[W5], p[B5], &t->t5[0][0], &t->x5[0][0]);
    full_forward(n, F6N, C5N, &t->x5[0][0], p[W6], p[B6], &t->t6[0][0], &t->x6[0][0]);
}

/* RBF penalties y (eq. 7) of one sample's F6 outputs */
static void rbf(const float *x6, const float *proto, float *y) {
    for (int k = 0; k < CLASSES; k++) {
        float acc[4] = {0};
        for (int j = 0; j < F6N; j += 4)
            for (int l = 0; l < 4; l++) {
                const float d = x6[j + l] - proto[k * F6N + j + l];
                acc[l] += d * d;
            }
        y[k] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

/* --- backward ------------------------------------------------------------------------------- */

_Static_assert(C5N % 2 == 0 && F6N % 2 == 0 && C1M % 2 == 0, "C5, F6 and C1's weight gradients take rows and maps two at a time");

/* rows o and o + 1 of dw, nb vectors of columns from k: += d[s][o] x[s][k] for the samples s in
   order (the rows start at 0 when `first`); each input vector is loaded once for both rows */
static inline __attribute__((always_inline)) void outer_rows(int nb, int n, int outs, int len, const float *restrict x,
                                                             const float *restrict d, int o, int k, int first,
                                                             float *restrict dw) {
    vn acc[2][4];
    for (int j = 0; j < 2; j++)
        for (int b = 0; b < nb; b++) acc[j][b] = first ? (vn){0} : load(dw + (o + j) * len + k + b * VW);
    for (int s = 0; s < n; s++) {
        const vn d0 = splat(d[s * outs + o]), d1 = splat(d[s * outs + o + 1]);
        for (int b = 0; b < nb; b++) {
            vn in = load(x + s * len + k + b * VW);
            IN_REGISTER(in);
            acc[0][b] += d0 * in;
            acc[1][b] += d1 * in;
        }
    }
    for (int j = 0; j < 2; j++)
        for (int b = 0; b < nb; b++) store(dw + (o + j) * len + k + b * VW, acc[j][b]);
}

/* dW[o][k] += sum_n d[n][o] x[n][k]; db[o] += sum_n d[n][o] (dW, db = these sums for a group's
   first tile); dx[n][k] = sum_o w[o][k] d[n][o]; len % 8 == 0, outs even */
static void full_backward(int n, int outs, int len, const float *restrict x, const float *restrict w,
                          const float *restrict d, int first, float *restrict dw, float *restrict db, float *restrict dx) {
    const int whole = len - len % VW;  /* whole vectors; then 8 floats as vt (VW 16) */
    for (int o = 0; o < outs; o += 2) {
        int k = 0;
        for (; k + 4 * VW <= whole; k += 4 * VW) outer_rows(4, n, outs, len, x, d, o, k, first, dw);
        for (; k < whole; k += VW) outer_rows(1, n, outs, len, x, d, o, k, first, dw);
        for (int j = o; j < o + 2; j++) {
            for (int kt = whole; kt < len; kt += TW) {
                vt acc = first ? (vt){0} : loadt(dw + j * len + kt);
                for (int s = 0; s < n; s++) acc += d[s * outs + j] * loadt(x + s * len + kt);
                storet(dw + j * len + kt, acc);
            }
            float bias = first ? 0 : db[j];
            for (int s = 0; s < n; s++) bias += d[s * outs + j];
            db[j] = bias;
        }
    }
    for (int k = 0; k < whole; k += VW) {  /* (blocked by samples, this moved the last bits: GCC contracts only some of these sums) */
        vn acc[TILE] = {{0}};
        for (int o = 0; o < outs; o++) {
            const vn wv = load(w + o * len + k);
            for (int s = 0; s < n; s++) acc[s] += d[s * outs + o] * wv;
        }
        for (int s = 0; s < n; s++) store(dx + s * len + k, acc[s]);
    }
    for (int k = whole; k < len; k += TW) {
        vt acc[TILE] = {{0}};
        for (int o = 0; o < outs; o++)
            for (int s = 0; s < n; s++) acc[s] += d[s * outs + o] * loadt(w + o * len + k);
        for (int s = 0; s < n; s++) storet(dx + s * len + k, acc[s]);
    }
}

static void sample_backward(Tile *t, int s, const float *const *p, const uint8_t *table, float *const *g) {
    Maps *m = &t->m[s];
    /* S4: a = coef * sum + bias, then f */
    float dp4[S4N];
    for (int c = 0; c < C3M; c++) {
        float dcoef = 0, dbias = 0;
        for (int k = c * 25; k < (c + 1) * 25; k++) {
            dp4[k] = t->dx4[s][k] * AS * (1 - m->t4[k] * m->t4[k]);
            dcoef += dp4[k] * m->sum4[k];
            dbias += dp4[k];
        }
        g[W4][c] += dcoef;
        g[B4][c] += dbias;
    }
    /* C3's sums a: each S4 unit hands coef * its gradient to its 2x2 block, times f' */
    for (int o = 0; o < C3M; o++) {
        float bias = 0;
        for (int r = 0; r < C3; r++)
            for (int q = 0; q < C3; q++) {
                const float th = m->t3[o][r * C3 + q];
                const float v = dp4[(o * S4 + r / 2) * S4 + q / 2] * p[W4][o] * AS * (1 - th * th);
                t->da3[o][r * C3 + q] = v;
                bias += v;
            }
        memset(&t->da3[o][C3 * C3], 0, sizeof(float) * (C3P - C3 * C3));
        g[B3][o] += bias;
    }
    /* C3's weights: sum over positions of da3 x (S2's outputs shifted by the tap) */
    shifted_inputs(m);
    for (int i = 0; i < C1M; i++) {
        int outs[C3M], count = 0;  /* the maps that S2's map i feeds, taken two at a time: each x load serves both */
        for (int o = 0; o < C3M; o++)
            if (table[o * C1M + i]) outs[count++] = o;
        for (int k = 0; k < count; k += 2) {
            const int pair = count - k < 2 ? 1 : 2;
            for (int ky = 0; ky < 5; ky++) {
                vn acc[NV][2][5];  /* lane l of each block of 16 sums the positions l, l + 16, ...; */
                for (int h = 0; h < NV; h++) {  /* vector h of each block: its own pass, 10 accumulators */
                    vn a[2][5] = {{{0}}};
                    for (int v = h; v < C3P / VW; v += NV) {
                        const vn d0 = load(&t->da3[outs[k]][VW * v]), d1 = load(&t->da3[outs[k + pair - 1]][VW * v]);
                        for (int kx = 0; kx < 5; kx++) {
                            vn x = load(&m->xs[i][kx][ky * C3 + VW * v]);
                            IN_REGISTER(x);
                            a[0][kx] += d0 * x;
                            a[1][kx] += d1 * x;
                        }
                    }
                    memcpy(acc[h], a, sizeof a);
                }
                for (int j = 0; j < pair; j++) {  /* taps kx 0..3 reduced together, then kx 4 */
                    v4 four[5];
                    for (int kx = 0; kx < 5; kx++) {
                        vn block[NV];
                        for (int h = 0; h < NV; h++) block[h] = acc[h][j][kx];
                        four[kx] = lanes_four(block);
                    }
                    float *gw = &g[W3][(outs[k + j] * C1M + i) * 25 + ky * 5];
                    v4 sums;
                    memcpy(&sums, gw, sizeof sums);
                    sums += sum4_of_four(four[0], four[1], four[2], four[3]);
                    memcpy(gw, &sums, sizeof sums);
                    gw[4] += sum4(four[4]);
                }
            }
        }
    }
    /* S2's outputs: the full convolution of da3 with the kernels: dx2[y][x] = sum over taps of
       w[ky][kx] da3[y - ky][x - kx], da3's rows read with PAD zeros on their left */
    for (int o = 0; o < C3M; o++)
        for (int r = 0; r < C3; r++) memcpy(&t->pad3[o][r][PAD], &t->da3[o][r * C3], sizeof(float) * C3);
    for (int i = 0; i < C1M; i++) {
        for (int x0 = 0; x0 < S2W; x0 += VW) {  /* one vector of columns at a time: 14 accumulators */
            vn acc[S2] = {{0}};
            for (int o = 0; o < C3M; o++) {
                if (!table[o * C1M + i]) continue;
#pragma GCC unroll 5
                for (int ky = 0; ky < 5; ky++)
                    for (int kx = 0; kx < 5; kx++) {
                        const float wk = p[W3][(o * C1M + i) * 25 + ky * 5 + kx];
#pragma GCC unroll 10
                        for (int r = 0; r < C3; r++) acc[r + ky] += wk * load(&t->pad3[o][r][PAD - kx + x0]);
                    }
            }
            for (int y = 0; y < S2; y++) store(&t->dx2[i][y * S2W + x0], acc[y]);
        }
    }
    /* S2, then C1's sums a */
    for (int c = 0; c < C1M; c++) {
        vn dcoef[NV] = {{0}}, dbias[NV] = {{0}};  /* per column of S2 */
        float bias[LANES] = {0};                  /* per column of C1, folded: l and l + 16 */
        const vn coef = splat(p[W2][c] * AS);
        for (int i = 0; i < S2; i++) {
            float u[S2W];  /* each S2 unit's gradient times its coefficient, for its two columns of C1 */
            for (int h = 0; h < NV; h++) {
                const int q = h * VW;
                const vn th = load(&m->t2[c][i][q]);
                vni column;
                memcpy(&column, COLUMN + q, sizeof column);
                const vn dp2 = pick(column < S2, load(&t->dx2[c][i * S2W + q]) * AS * (1 - th * th), (vn){0});  /* 14 of 16 */
                dcoef[h] += dp2 * load(&m->sum2[c][i][q]);
                dbias[h] += dp2;
                store(u + q, dp2 * coef);
            }
            float twice[C1W];  /* each S2 unit's value on its two columns of C1 */
            for (int x = 0; x < C1W; x++) twice[x] = u[x / 2];
            for (int r = 2 * i; r < 2 * i + 2; r++) {
                for (int x = 0; x < C1W; x += VW) {
                    const vn th = load(&m->t1[c][r][x]);
                    store(&t->da1[c][r][x], load(twice + x) * (1 - th * th));
                }
                for (int l = 0; l < LANES; l += VW)
                    store(bias + l, load(bias + l) + (load(&t->da1[c][r][l]) + load(&t->da1[c][r][l + LANES])));
            }
        }
        g[W2][c] += lanes_sum(dcoef);
        g[B2][c] += lanes_sum(dbias);
        g[B1][c] += sum16(bias);
    }
    /* C1's weights: two maps at a time (each input load serves both), a vector of columns at a time */
    for (int c = 0; c < C1M; c += 2)  /* C1M is even */
        for (int ky = 0; ky < 5; ky++) {
            float cols[2][5][C1W];  /* per map, per tap, per column of C1: the sum over rows */
            for (int x = 0; x < C1W; x += VW) {
                vn acc[2][5] = {{{0}}};
                for (int r = 0; r < C1; r++) {
                    const float *row = m->img + (r + ky) * IN + x;
                    const vn d0 = load(&t->da1[c][r][x]), d1 = load(&t->da1[c + 1][r][x]);
                    for (int kx = 0; kx < 5; kx++) {
                        vn in = load(row + kx);
                        IN_REGISTER(in);
                        acc[0][kx] += d0 * in;
                        acc[1][kx] += d1 * in;
                    }
                }
                for (int j = 0; j < 2; j++)
                    for (int kx = 0; kx < 5; kx++) store(&cols[j][kx][x], acc[j][kx]);
            }
            for (int j = 0; j < 2; j++)
                for (int kx = 0; kx < 5; kx++) {
                    float folded[LANES];
                    for (int l = 0; l < LANES; l++) folded[l] = cols[j][kx][l] + cols[j][kx][l + LANES];  /* columns l and l + 16 */
                    g[W1][(c + j) * 25 + ky * 5 + kx] += sum16(folded);
                }
        }
}

/* --- entry points --------------------------------------------------------------------------- */

/* Groups that the batch's gradient is summed in: by batch size only, never by thread count. */
static int groups_of(int batch) {
    const int groups = (batch + TILE - 1) / TILE;
    return groups < 8 ? groups : 8;
}

size_t lenet5_grad_buffer_floats(int batch) { return (size_t)groups_of(batch) * lenet5_grad_floats(); }

/* [begin, end) of part k of n things cut into `parts` */
static int cut(int n, int parts, int k) { return (int)((int64_t)n * k / parts); }

#ifdef _OPENMP
#include <omp.h>
#define THREAD_ID omp_get_thread_num()
#define THREADS omp_get_num_threads()
#else
#define THREAD_ID 0
#define THREADS 1
#endif

/* Scores (n, 10): the RBF penalties of inputs[idx[i]] (of inputs[i] when idx is NULL). `work`
   holds lenet5_work_bytes() per thread. */
void lenet5_scores(char *work, int threads, int n, const float *inputs, const int64_t *idx, const float *const *p,
                   const uint8_t *table, float *scores) {
    const int tiles = (n + TILE - 1) / TILE;
#pragma omp parallel num_threads(threads)
    {
        Tile *t = tile_of(work + THREAD_ID * lenet5_work_bytes());
        for (int k = cut(tiles, THREADS, THREAD_ID); k < cut(tiles, THREADS, THREAD_ID + 1); k++) {
            const int s0 = k * TILE, m = n - s0 < TILE ? n - s0 : TILE;
            tile_forward(t, s0, m, inputs, idx, p, table);
            for (int s = 0; s < m; s++) rbf(t->x6[s], p[PARAMS], scores + (s0 + s) * CLASSES);
        }
    }
}

/* One group's samples [first, last): their gradient of `scale` x their summed loss into g. */
static void train_group(Tile *t, int first, int last, const float *inputs, const int64_t *labels, const int64_t *idx,
                        const float *const *p, const uint8_t *table, int loss, float j, float scale, float *const *g,
                        float *losses, uint8_t *wrong) {
    for (int s0 = first; s0 < last; s0 += TILE) {
        const int n = last - s0 < TILE ? last - s0 : TILE;
        tile_forward(t, s0, n, inputs, idx, p, table);
        for (int s = 0; s < n; s++) {
            float y[CLASSES];
            rbf(t->x6[s], p[PARAMS], y);
            const int64_t label = labels[row_of(idx, s0 + s)];
            int best = 0;
            for (int k = 1; k < CLASSES; k++)
                if (y[k] < y[best]) best = k;
            wrong[s0 + s] = best != label;
            float dy[CLASSES];
            if (loss == 0) {  /* eq. 9: y_D + log(e^-j + sum_i e^-y_i) */
                float top = -j;
                for (int k = 0; k < CLASSES; k++) top = -y[k] > top ? -y[k] : top;
                float sum = expf(-j - top);
                for (int k = 0; k < CLASSES; k++) sum += expf(-y[k] - top);
                const float lse = top + logf(sum);
                losses[s0 + s] = y[label] + lse;
                for (int k = 0; k < CLASSES; k++) dy[k] = scale * ((k == label) - expf(-y[k] - lse));
            } else {  /* eq. 8: y_D */
                losses[s0 + s] = y[label];
                for (int k = 0; k < CLASSES; k++) dy[k] = scale * (k == label);
            }
            /* F6's sums: dE/dx6_j = sum_k dy_k 2 (x6_j - w_kj), times f' */
            for (int i = 0; i < F6N; i++) {
                float d = 0;
                for (int k = 0; k < CLASSES; k++) d += dy[k] * 2 * (t->x6[s][i] - p[PARAMS][k * F6N + i]);
                t->d6[s][i] = d * AS * (1 - t->t6[s][i] * t->t6[s][i]);
            }
        }
        full_backward(n, F6N, C5N, &t->x5[0][0], p[W6], &t->d6[0][0], s0 == first, g[W6], g[B6], &t->dx5[0][0]);
        for (int s = 0; s < n; s++)
            for (int i = 0; i < C5N; i++) t->d5[s][i] = t->dx5[s][i] * AS * (1 - t->t5[s][i] * t->t5[s][i]);
        full_backward(n, C5N, S4N, &t->x4[0][0], p[W5], &t->d5[0][0], s0 == first, g[W5], g[B5], &t->dx4[0][0]);
        for (int s = 0; s < n; s++) sample_backward(t, s, p, table, g);
    }
}

/* A training step's gradient: grad (lenet5_grad_floats(), parameters in LeNet5.parameters()
   order) = the gradient of `scale` x the loss summed over the batch's samples inputs[idx[i]]
   (inputs[i] without idx) with targets labels[idx[i]]; losses[i] and wrong[i]: each sample's loss
   and whether its smallest penalty is another class's. loss: 0 MAP (eq. 9, constant j), 1 MSE
   (eq. 8). `work`: lenet5_work_bytes() per thread; `groups`: lenet5_grad_buffer_floats(batch). */
void lenet5_train(char *work, int threads, int batch, const float *inputs, const int64_t *labels, const int64_t *idx,
                  const float *const *p, const uint8_t *table, int loss, float j, float scale, float *groups,
                  float *grad, float *losses, uint8_t *wrong) {
    const int count = groups_of(batch), floats = lenet5_grad_floats();
#pragma omp parallel num_threads(threads)
    {
        Tile *t = tile_of(work + THREAD_ID * lenet5_work_bytes());
        memset(t->pad3, 0, sizeof t->pad3);
        for (int gr = cut(count, THREADS, THREAD_ID); gr < cut(count, THREADS, THREAD_ID + 1); gr++) {
            float *g[PARAMS];
            g[0] = groups + (size_t)gr * floats;
            for (int i = 1; i < PARAMS; i++) g[i] = g[i - 1] + SIZES[i - 1];
            memset(g[0], 0, sizeof(float) * (g[W5] - g[0]));  /* C5 and F6 write theirs on the group's first tile */
            train_group(t, cut(batch, count, gr), cut(batch, count, gr + 1), inputs, labels, idx, p, table, loss, j,
                        scale, g, losses, wrong);
        }
#pragma omp barrier
        /* the groups added in group order, each thread a slice of the parameters */
        const int k0 = cut(floats, THREADS, THREAD_ID), k1 = cut(floats, THREADS, THREAD_ID + 1);
        for (int k = k0; k < k1; k++) grad[k] = groups[k];
        for (int gr = 1; gr < count; gr++)
            for (int k = k0; k < k1; k++) grad[k] += groups[(size_t)gr * floats + k];
    }
}
