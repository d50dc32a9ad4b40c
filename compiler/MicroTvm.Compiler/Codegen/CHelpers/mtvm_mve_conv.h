/* The Helium convolution kernels' pieces: the matrix product (VMLADAVA over blocks of 4 filter rows and 1 or 2
   columns) and the depthwise int16 lanes (VMULLB/VMULLT, VMOVNT). */
#ifndef MTVM_MVE_CONV_H
#define MTVM_MVE_CONV_H
#include <stdint.h>
#include "mtvm_mve.h"

#ifdef MTVM_MVE
/* The matrix product of two pixels: acc[0][c] and acc[1][c] = bias[c] + filter row c times the columns xa, xb, for
   all 4 * blocks channels. Each column is `pieces` pieces (xa[r], xb[r]) of `full` 16-byte steps and then `tail`
   (0..15) more bytes, read by tail-predicated loads (nothing past a piece is touched). The filter is re-laid at compile
   time as [block of 4 rows][piece][step][4 rows][16 bytes], zero weights past each piece's tail, so one step's four
   weight vectors are consecutive. VMLADAVA adds 16 int8 products to a 32-bit sum; its accumulators must be even core
   registers, so the steps are assembly (gcc 12 spills eight of them otherwise) inside a function of their own,
   where all eight are free (and VPR, which the tail's VCTP sets, is the caller's to save). */
__attribute__((noinline, unused)) static void mtvm_vgemm_2xn(const int8_t* const* xa, const int8_t* const* xb, int pieces, int full, int tail,
                                                          const int8_t* w, const int32_t* bias, int blocks, int32_t* acc0, int32_t* acc1) {
    int blk, r;
    for (blk = 0; blk < blocks; ++blk, bias += 4, acc0 += 4, acc1 += 4) {
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3], b0 = a0, b1 = a1, b2 = a2, b3 = a3;
        for (r = 0; r < pieces; ++r) {
            const int8_t* x = xa[r];
            const int8_t* y = xb[r];
            if (full > 0) {
                int n = full;
                __asm__ volatile(
                    "1:\n\t"
                    "vldrb.8 q0, [%[x]], #16\n\t"
                    "vldrb.8 q1, [%[y]], #16\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a0], q0, q2\n\t"
                    "vmladava.s8 %[b0], q1, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a1], q0, q2\n\t"
                    "vmladava.s8 %[b1], q1, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a2], q0, q2\n\t"
                    "vmladava.s8 %[b2], q1, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a3], q0, q2\n\t"
                    "vmladava.s8 %[b3], q1, q2\n\t"
                    "subs %[n], %[n], #1\n\t"
                    "bne 1b"
                    : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [b0] "+Te"(b0), [b1] "+Te"(b1), [b2] "+Te"(b2), [b3] "+Te"(b3),
                      [x] "+r"(x), [y] "+r"(y), [w] "+r"(w), [n] "+r"(n)
                    : : "q0", "q1", "q2", "memory", "cc");
            }
            if (tail > 0) {
                __asm__ volatile(
                    "vctp.8 %[t]\n\t"
                    "vpstt\n\t"
                    "vldrbt.8 q0, [%[x]]\n\t"
                    "vldrbt.8 q1, [%[y]]\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a0], q0, q2\n\t"
                    "vmladava.s8 %[b0], q1, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a1], q0, q2\n\t"
                    "vmladava.s8 %[b1], q1, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a2], q0, q2\n\t"
                    "vmladava.s8 %[b2], q1, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a3], q0, q2\n\t"
                    "vmladava.s8 %[b3], q1, q2"
                    : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [b0] "+Te"(b0), [b1] "+Te"(b1), [b2] "+Te"(b2), [b3] "+Te"(b3),
                      [w] "+r"(w)
                    : [x] "r"(x), [y] "r"(y), [t] "r"(tail)
                    : "q0", "q1", "q2", "memory");
            }
        }
        acc0[0] = a0; acc0[1] = a1; acc0[2] = a2; acc0[3] = a3;
        acc1[0] = b0; acc1[1] = b1; acc1[2] = b2; acc1[3] = b3;
    }
}
/* The same for one pixel. */
__attribute__((noinline, unused)) static void mtvm_vgemm_1xn(const int8_t* const* xa, int pieces, int full, int tail,
                                                          const int8_t* w, const int32_t* bias, int blocks, int32_t* acc0) {
    int blk, r;
    for (blk = 0; blk < blocks; ++blk, bias += 4, acc0 += 4) {
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        for (r = 0; r < pieces; ++r) {
            const int8_t* x = xa[r];
            if (full > 0) {
                int n = full;
                __asm__ volatile(
                    "1:\n\t"
                    "vldrb.8 q0, [%[x]], #16\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a0], q0, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a1], q0, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a2], q0, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a3], q0, q2\n\t"
                    "subs %[n], %[n], #1\n\t"
                    "bne 1b"
                    : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [x] "+r"(x), [w] "+r"(w), [n] "+r"(n)
                    : : "q0", "q2", "memory", "cc");
            }
            if (tail > 0) {
                __asm__ volatile(
                    "vctp.8 %[t]\n\t"
                    "vpst\n\t"
                    "vldrbt.8 q0, [%[x]]\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a0], q0, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a1], q0, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a2], q0, q2\n\t"
                    "vldrb.8 q2, [%[w]], #16\n\t"
                    "vmladava.s8 %[a3], q0, q2"
                    : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [w] "+r"(w)
                    : [x] "r"(x), [t] "r"(tail)
                    : "q0", "q2", "memory");
            }
        }
        acc0[0] = a0; acc0[1] = a1; acc0[2] = a2; acc0[3] = a3;
    }
}
#else
/* VMLADAVA.S8 on the first n bytes of x (a tail-predicated load reads the rest as zero). */
MTVM_VFN int32_t mtvm_e_mladava(int32_t acc, const int8_t* x, const int8_t* k, int n) {
    uint32_t sum = (uint32_t)acc;
    int i;
    for (i = 0; i < n; ++i) sum += (uint32_t)((int32_t)x[i] * k[i]);
    return (int32_t)sum;
}
MTVM_VFN void mtvm_vgemm_1xn(const int8_t* const* xa, int pieces, int full, int tail,
                             const int8_t* w, const int32_t* bias, int blocks, int32_t* acc0) {
    int blk, r, s, j;
    for (blk = 0; blk < blocks; ++blk, bias += 4, acc0 += 4) {
        for (j = 0; j < 4; ++j) acc0[j] = bias[j];
        for (r = 0; r < pieces; ++r)
            for (s = 0; s < full + (tail > 0); ++s, w += 64)
                for (j = 0; j < 4; ++j) acc0[j] = mtvm_e_mladava(acc0[j], xa[r] + 16 * s, w + 16 * j, s < full ? 16 : tail);
    }
}
MTVM_VFN void mtvm_vgemm_2xn(const int8_t* const* xa, const int8_t* const* xb, int pieces, int full, int tail,
                             const int8_t* w, const int32_t* bias, int blocks, int32_t* acc0, int32_t* acc1) {
    mtvm_vgemm_1xn(xa, pieces, full, tail, w, bias, blocks, acc0);
    mtvm_vgemm_1xn(xb, pieces, full, tail, w, bias, blocks, acc1);
}
#endif
#ifdef MTVM_MVE
/* 8 bytes sign-extended into int16 lanes (VLDRB.S16); the first n only (tail-predicated, the rest zero) */
static inline mtvm_i16x8 mtvm_v16_ld_s8(const int8_t* p) { return vldrbq_s16(p); }
static inline mtvm_i16x8 mtvm_v16_ld_s8_n(const int8_t* p, int n) { return vldrbq_z_s16(p, vctp16q((uint32_t)n)); }
/* acc + the products of the even (VMULLB) / odd (VMULLT) int16 lanes, widened to int32 */
static inline mtvm_i32x4 mtvm_v_mla_even(mtvm_i32x4 acc, mtvm_i16x8 a, mtvm_i16x8 b) { return vaddq_s32(acc, vmullbq_int_s16(a, b)); }
static inline mtvm_i32x4 mtvm_v_mla_odd(mtvm_i32x4 acc, mtvm_i16x8 a, mtvm_i16x8 b) { return vaddq_s32(acc, vmulltq_int_s16(a, b)); }
/* Bytes of the even lanes (channels 0, 2, 4, 6) and odd lanes (1, 3, 5, 7) interleaved into p[0..n-1]: VMOVNT puts the
   odd lanes into the top halves of the even ones, VSTRB.16 stores the 8 halves' low bytes. */
/* One depthwise tap of 8 channels: even += x[0,2,4,6] * k[ko + 0,2,4,6], odd += x[1,3,5,7] * k[ko + 1,3,5,7] (int16
   lanes widened into int32). Assembly, because gcc 12 reassociates the vector sums of unrolled taps and spills
   every product; ko is a literal (an immediate offset); widening loads take low registers only ("l"). */
#define MTVM_DW_TAP(even, odd, x, k, ko) do { int16x8_t v_, f_; int32x4_t t_; \
    __asm__("vldrb.s16 %q[v], [%[xp]]\n\tvldrb.s16 %q[f], [%[kp], #" #ko "]\n\tvmullb.s16 %q[t], %q[v], %q[f]\n\t" \
            "vadd.i32 %q[e], %q[e], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o], %q[o], %q[t]" \
            : [e] "+w"(even), [o] "+w"(odd), [v] "=&w"(v_), [f] "=&w"(f_), [t] "=&w"(t_) : [xp] "l"(x), [kp] "l"(k) : "memory"); } while (0)
/* The same tap for two output pixels whose inputs are d bytes apart (d a literal below 128): one filter load. */
#define MTVM_DW_TAP2(even0, odd0, even1, odd1, x, d, k, ko) do { int16x8_t v_, f_; int32x4_t t_; \
    __asm__("vldrb.s16 %q[f], [%[kp], #" #ko "]\n\tvldrb.s16 %q[v], [%[xp]]\n\t" \
            "vmullb.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[e0], %q[e0], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o0], %q[o0], %q[t]\n\t" \
            "vldrb.s16 %q[v], [%[xp], #" #d "]\n\t" \
            "vmullb.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[e1], %q[e1], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o1], %q[o1], %q[t]" \
            : [e0] "+w"(even0), [o0] "+w"(odd0), [e1] "+w"(even1), [o1] "+w"(odd1), [v] "=&w"(v_), [f] "=&w"(f_), [t] "=&w"(t_) \
            : [xp] "l"(x), [kp] "l"(k) : "memory"); } while (0)
static inline void mtvm_v_st_s8_interleaved(int8_t* p, mtvm_i32x4 even, mtvm_i32x4 odd, int n) {
    const int16x8_t v = vmovntq_s32(vreinterpretq_s16_s32(even), odd);
    if (n >= 8) vstrbq_s16(p, v); else vstrbq_p_s16(p, v, vctp16q((uint32_t)n));
}
#else
MTVM_VFN mtvm_i16x8 mtvm_v16_ld_s8_n(const int8_t* p, int n) { mtvm_i16x8 r; int i; for (i = 0; i < 8; ++i) r.lane[i] = (int16_t)(i < n ? p[i] : 0); return r; }
MTVM_VFN mtvm_i16x8 mtvm_v16_ld_s8(const int8_t* p) { return mtvm_v16_ld_s8_n(p, 8); }
MTVM_VFN mtvm_i32x4 mtvm_v_mla_even(mtvm_i32x4 acc, mtvm_i16x8 a, mtvm_i16x8 b) {
    int i;
    for (i = 0; i < 4; ++i) acc.lane[i] = (int32_t)((uint32_t)acc.lane[i] + (uint32_t)((int32_t)a.lane[2 * i] * b.lane[2 * i]));
    return acc;
}
MTVM_VFN mtvm_i32x4 mtvm_v_mla_odd(mtvm_i32x4 acc, mtvm_i16x8 a, mtvm_i16x8 b) {
    int i;
    for (i = 0; i < 4; ++i) acc.lane[i] = (int32_t)((uint32_t)acc.lane[i] + (uint32_t)((int32_t)a.lane[2 * i + 1] * b.lane[2 * i + 1]));
    return acc;
}
#define MTVM_DW_TAP(even, odd, x, k, ko) do { const mtvm_i16x8 v_ = mtvm_v16_ld_s8(x), f_ = mtvm_v16_ld_s8((k) + (ko)); \
    (even) = mtvm_v_mla_even((even), v_, f_); (odd) = mtvm_v_mla_odd((odd), v_, f_); } while (0)
#define MTVM_DW_TAP2(even0, odd0, even1, odd1, x, d, k, ko) do { MTVM_DW_TAP(even0, odd0, (x), k, ko); MTVM_DW_TAP(even1, odd1, (x) + (d), k, ko); } while (0)
MTVM_VFN void mtvm_v_st_s8_interleaved(int8_t* p, mtvm_i32x4 even, mtvm_i32x4 odd, int n) {
    int i;
    for (i = 0; i < n && i < 8; ++i) p[i] = (int8_t)(uint8_t)((uint32_t)(i % 2 ? odd.lane[i / 2] : even.lane[i / 2]) & 0xFFu);
}
#endif
/* The tap of a last, partial group: only the first n channels are read (tail-predicated). */
#define MTVM_DW_TAP_N(even, odd, x, k, ko, n) do { const mtvm_i16x8 v_ = mtvm_v16_ld_s8_n((x), (n)), f_ = mtvm_v16_ld_s8((k) + (ko)); \
    (even) = mtvm_v_mla_even((even), v_, f_); (odd) = mtvm_v_mla_odd((odd), v_, f_); } while (0)

#endif
