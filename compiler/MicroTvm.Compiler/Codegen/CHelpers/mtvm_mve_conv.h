/* The Helium convolution kernels' pieces: the matrix product (VMLADAVA over blocks of 4 filter rows and 1 or 2
   columns) and the depthwise int16 lanes (VMULLB/VMULLT, VMOVNT). */
#ifndef MTVM_MVE_CONV_H
#define MTVM_MVE_CONV_H
#include <stdint.h>
#include "mtvm_mve.h"

#ifndef MTVM_MVE
/* VMLADAVA.S8 on the first n bytes of x (a tail-predicated load reads the rest as zero). */
MTVM_VFN int32_t mtvm_e_mladava(int32_t acc, const int8_t* x, const int8_t* k, int n) {
    uint32_t sum = (uint32_t)acc;
    int i;
    for (i = 0; i < n; ++i) sum += (uint32_t)((int32_t)x[i] * k[i]);
    return (int32_t)sum;
}
#endif
/* The matrix product unrolled by the generated code (HeliumGemmKernel): one asm statement per piece of a column, so
   that the sums stay in their registers from step to step (VMLADAV's accumulators must be even core registers,
   "Te"; with one statement per step gcc 12 moves and spills them between the steps). MTVM_VG2_SET/SET_N/ADD/ADD_N run
   `code` on 4 filter rows (w, advanced by 64 bytes per step) times two columns (a0..a3: the bytes at x, b0..b3:
   at y), MTVM_VG1_* on one column (a0..a3). `code` is a sequence of steps (MTVM_VG2_* or MTVM_VG1_*), each at a
   literal byte offset o below 128 (the loads' immediate range): _F(o) sets the sums (VMLADAV, SET only, first),
   _S(o) adds 16 bytes' products (VMLADAVA), _T(o) adds the first n (1..15) bytes' only (ADD_N: loads predicated by VCTP, given to
   the asm in VPR, "Up", read nothing more and give zeros). The emulation runs the same step list.
   mtvm_v_make_lanes moves four sums into one vector with four VMOVs (no VDUP first; the two-lane form,
   VMOV Qd[2], Qd[0], Rt, Rt2, in gcc's operand order for vcreateq, gave wrong lanes on QEMU 7.2). */
#ifdef MTVM_MVE
#define MTVM_VG_W(op, a, u) "vldrb.8 %q[f], [%[w]], #16\n\t" op " %[" a "], %q[" u "], %q[f]\n\t"
#define MTVM_VG_W2(op, a, b) "vldrb.8 %q[f], [%[w]], #16\n\t" op " %[" a "], %q[u], %q[f]\n\t" op " %[" b "], %q[v], %q[f]\n\t"
#define MTVM_VG_OP(op) MTVM_VG_W(op, "a0", "u") MTVM_VG_W(op, "a1", "u") MTVM_VG_W(op, "a2", "u") MTVM_VG_W(op, "a3", "u")
#define MTVM_VG_OP2(op) MTVM_VG_W2(op, "a0", "b0") MTVM_VG_W2(op, "a1", "b1") MTVM_VG_W2(op, "a2", "b2") MTVM_VG_W2(op, "a3", "b3")
#define MTVM_VG_LOAD1(pred, o) "vldrb" pred ".8 %q[u], [%[xp], #" #o "]\n\t"
#define MTVM_VG_LOAD2(pred, o) MTVM_VG_LOAD1(pred, o) "vldrb" pred ".8 %q[v], [%[yp], #" #o "]\n\t"
#define MTVM_VG1_F(o) MTVM_VG_LOAD1("", o) MTVM_VG_OP("vmladav.s8")
#define MTVM_VG1_S(o) MTVM_VG_LOAD1("", o) MTVM_VG_OP("vmladava.s8")
#define MTVM_VG1_T(o) "vpst\n\t" MTVM_VG_LOAD1("t", o) MTVM_VG_OP("vmladava.s8")
#define MTVM_VG2_F(o) MTVM_VG_LOAD2("", o) MTVM_VG_OP2("vmladav.s8")
#define MTVM_VG2_S(o) MTVM_VG_LOAD2("", o) MTVM_VG_OP2("vmladava.s8")
#define MTVM_VG2_T(o) "vpstt\n\t" MTVM_VG_LOAD2("t", o) MTVM_VG_OP2("vmladava.s8")
#define MTVM_VG2_OUT(c) [a0] c(a0), [a1] c(a1), [a2] c(a2), [a3] c(a3), [b0] c(b0), [b1] c(b1), [b2] c(b2), [b3] c(b3), [w] "+r"(w), [u] "=&w"(u_), [v] "=&w"(v_), [f] "=&w"(f_)
#define MTVM_VG1_OUT(c) [a0] c(a0), [a1] c(a1), [a2] c(a2), [a3] c(a3), [w] "+r"(w), [u] "=&w"(u_), [f] "=&w"(f_)
#define MTVM_VG2_ASM(c, inputs, a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code) do { int8x16_t u_, v_, f_; \
    __asm__ volatile(code : MTVM_VG2_OUT(c) : [xp] "r"(x), [yp] "r"(y) inputs : "memory"); } while (0)
#define MTVM_VG1_ASM(c, inputs, a0, a1, a2, a3, x, w, code) do { int8x16_t u_, f_; \
    __asm__ volatile(code : MTVM_VG1_OUT(c) : [xp] "r"(x) inputs : "memory"); } while (0)
#define MTVM_VG_PRED(n) , [t] "Up"(vctp8q((uint32_t)(n)))
#define MTVM_VG_NONE
#define MTVM_VG2_SET(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code) MTVM_VG2_ASM("=&Te", MTVM_VG_NONE, a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code)
#define MTVM_VG2_SET_N(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, n, code) MTVM_VG2_ASM("=&Te", MTVM_VG_PRED(n), a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code)
#define MTVM_VG2_ADD(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code) MTVM_VG2_ASM("+Te", MTVM_VG_NONE, a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code)
#define MTVM_VG2_ADD_N(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, n, code) MTVM_VG2_ASM("+Te", MTVM_VG_PRED(n), a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code)
#define MTVM_VG1_SET(a0, a1, a2, a3, x, w, code) MTVM_VG1_ASM("=&Te", MTVM_VG_NONE, a0, a1, a2, a3, x, w, code)
#define MTVM_VG1_SET_N(a0, a1, a2, a3, x, w, n, code) MTVM_VG1_ASM("=&Te", MTVM_VG_PRED(n), a0, a1, a2, a3, x, w, code)
#define MTVM_VG1_ADD(a0, a1, a2, a3, x, w, code) MTVM_VG1_ASM("+Te", MTVM_VG_NONE, a0, a1, a2, a3, x, w, code)
#define MTVM_VG1_ADD_N(a0, a1, a2, a3, x, w, n, code) MTVM_VG1_ASM("+Te", MTVM_VG_PRED(n), a0, a1, a2, a3, x, w, code)
/* An induction variable gcc cannot count: the block loop must not take LR for a low-overhead loop (LE), which
   leaves seven even registers for eight sums. */
#define MTVM_VG_OPAQUE(i) __asm__("" : "+r"(i))
static inline mtvm_i32x4 mtvm_v_make_lanes(int32_t a, int32_t b, int32_t c, int32_t d) {
    int32x4_t v;
    __asm__("vmov.32 %q[v][0], %[a]\n\tvmov.32 %q[v][1], %[b]\n\tvmov.32 %q[v][2], %[c]\n\tvmov.32 %q[v][3], %[d]"
            : [v] "=w"(v) : [a] "r"(a), [b] "r"(b), [c] "r"(c), [d] "r"(d));
    return v;
}
#else
#define MTVM_VG1_F(o) "f" #o " "
#define MTVM_VG1_S(o) "s" #o " "
#define MTVM_VG1_T(o) "t" #o " "
#define MTVM_VG2_F(o) "f" #o " "
#define MTVM_VG2_S(o) "s" #o " "
#define MTVM_VG2_T(o) "t" #o " "
/* Runs a step list: s (sums of 4 rows of one column) and, when t is not NULL, t (the second column). */
MTVM_VFN void mtvm_e_vg(int32_t* s, int32_t* t, const int8_t* x, const int8_t* y, const int8_t** w, int n, const char* code) {
    while (*code != '\0') {
        const char op = *code++;
        int o = 0, j;
        while (*code >= '0' && *code <= '9') o = o * 10 + (*code++ - '0');
        while (*code == ' ') ++code;
        for (j = 0; j < 4; ++j) {
            if (op == 'f') { s[j] = 0; if (t) t[j] = 0; }
            s[j] = mtvm_e_mladava(s[j], x + o, *w + 16 * j, op == 't' ? n : 16);
            if (t) t[j] = mtvm_e_mladava(t[j], y + o, *w + 16 * j, op == 't' ? n : 16);
        }
        *w += 64;
    }
}
#define MTVM_VG2_ADD_N(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, n, code) do { int32_t s_[4], t_[4]; \
    s_[0] = (a0); s_[1] = (a1); s_[2] = (a2); s_[3] = (a3); t_[0] = (b0); t_[1] = (b1); t_[2] = (b2); t_[3] = (b3); \
    mtvm_e_vg(s_, t_, (x), (y), &(w), (n), code); \
    (a0) = s_[0]; (a1) = s_[1]; (a2) = s_[2]; (a3) = s_[3]; (b0) = t_[0]; (b1) = t_[1]; (b2) = t_[2]; (b3) = t_[3]; } while (0)
#define MTVM_VG2_ADD(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code) MTVM_VG2_ADD_N(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, 16, code)
#define MTVM_VG2_SET_N(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, n, code) do { (a0) = 0; (a1) = 0; (a2) = 0; (a3) = 0; \
    (b0) = 0; (b1) = 0; (b2) = 0; (b3) = 0; MTVM_VG2_ADD_N(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, n, code); } while (0)
#define MTVM_VG2_SET(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, code) MTVM_VG2_SET_N(a0, a1, a2, a3, b0, b1, b2, b3, x, y, w, 16, code)
#define MTVM_VG1_ADD_N(a0, a1, a2, a3, x, w, n, code) do { int32_t s_[4]; s_[0] = (a0); s_[1] = (a1); s_[2] = (a2); s_[3] = (a3); \
    mtvm_e_vg(s_, (int32_t*)0, (x), (const int8_t*)0, &(w), (n), code); (a0) = s_[0]; (a1) = s_[1]; (a2) = s_[2]; (a3) = s_[3]; } while (0)
#define MTVM_VG1_ADD(a0, a1, a2, a3, x, w, code) MTVM_VG1_ADD_N(a0, a1, a2, a3, x, w, 16, code)
#define MTVM_VG1_SET_N(a0, a1, a2, a3, x, w, n, code) do { (a0) = 0; (a1) = 0; (a2) = 0; (a3) = 0; MTVM_VG1_ADD_N(a0, a1, a2, a3, x, w, n, code); } while (0)
#define MTVM_VG1_SET(a0, a1, a2, a3, x, w, code) MTVM_VG1_SET_N(a0, a1, a2, a3, x, w, 16, code)
#define MTVM_VG_OPAQUE(i) ((void)0)
#define mtvm_v_make_lanes mtvm_v_make
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
/* One tap of 8 channels at x + xo (one pixel, MTVM_DW_TAPO) or at x + xo and y + xo (two pixels, MTVM_DW_TAP2P: one
   filter load for both): xo a literal in -127..127, so that one base pointer serves a filter row's taps. */
#define MTVM_DW_TAPO(even, odd, x, xo, k, ko) do { int16x8_t v_, f_; int32x4_t t_; \
    __asm__("vldrb.s16 %q[v], [%[xp], #" #xo "]\n\tvldrb.s16 %q[f], [%[kp], #" #ko "]\n\tvmullb.s16 %q[t], %q[v], %q[f]\n\t" \
            "vadd.i32 %q[e], %q[e], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o], %q[o], %q[t]" \
            : [e] "+w"(even), [o] "+w"(odd), [v] "=&w"(v_), [f] "=&w"(f_), [t] "=&w"(t_) : [xp] "l"(x), [kp] "l"(k) : "memory"); } while (0)
#define MTVM_DW_TAP2P(even0, odd0, even1, odd1, x, y, xo, k, ko) do { int16x8_t v_, f_; int32x4_t t_; \
    __asm__("vldrb.s16 %q[f], [%[kp], #" #ko "]\n\tvldrb.s16 %q[v], [%[xp], #" #xo "]\n\t" \
            "vmullb.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[e0], %q[e0], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o0], %q[o0], %q[t]\n\t" \
            "vldrb.s16 %q[v], [%[yp], #" #xo "]\n\t" \
            "vmullb.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[e1], %q[e1], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o1], %q[o1], %q[t]" \
            : [e0] "+w"(even0), [o0] "+w"(odd0), [e1] "+w"(even1), [o1] "+w"(odd1), [v] "=&w"(v_), [f] "=&w"(f_), [t] "=&w"(t_) \
            : [xp] "l"(x), [yp] "l"(y), [kp] "l"(k) : "memory"); } while (0)
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
#define MTVM_DW_TAPO(even, odd, x, xo, k, ko) MTVM_DW_TAP(even, odd, (x) + (xo), k, ko)
#define MTVM_DW_TAP2P(even0, odd0, even1, odd1, x, y, xo, k, ko) do { MTVM_DW_TAP(even0, odd0, (x) + (xo), k, ko); MTVM_DW_TAP(even1, odd1, (y) + (xo), k, ko); } while (0)
MTVM_VFN void mtvm_v_st_s8_interleaved(int8_t* p, mtvm_i32x4 even, mtvm_i32x4 odd, int n) {
    int i;
    for (i = 0; i < n && i < 8; ++i) p[i] = (int8_t)(uint8_t)((uint32_t)(i % 2 ? odd.lane[i / 2] : even.lane[i / 2]) & 0xFFu);
}
#endif
/* The tap of a last, partial group: only the first n channels are read (tail-predicated). */
#define MTVM_DW_TAP_N(even, odd, x, k, ko, n) do { const mtvm_i16x8 v_ = mtvm_v16_ld_s8_n((x), (n)), f_ = mtvm_v16_ld_s8((k) + (ko)); \
    (even) = mtvm_v_mla_even((even), v_, f_); (odd) = mtvm_v_mla_odd((odd), v_, f_); } while (0)

#endif
