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
/* The matrix product's whole layer of blocks in one asm statement per column pair (HeliumGemmKernel, where a column
   has at most 64 steps per piece and the channels fill whole blocks of 4): MTVM_VB2_RUN runs, for every block of 4
   filter rows, the steps of `code` with the 8 sums in fixed even registers (r0 r2 r4 r6: column x, r8 r10 r12 lr:
   column y), then the requantization from the same stream: after the block's 16-byte steps come its bias, left shifts
   (MTVM_VB2_LEFT, if any), multipliers and negated right shifts (MTVM_VB2_RIGHT when every channel shifts right; MTVM_VB2_RIGHT_MIXED
   when some do: first a mask, -1 for the channels that shift, for the sign correction),
   4 int32 words each. Each step's 4 filter rows come by one VLDM. The sums reach two vectors through the stack (one PUSH, one VPOP), the record by one VLDM (MTVM_VB_RECn: n
   vectors into q2.., each step naming its own); both columns are narrowed
   together with saturation into the int16 lanes of one vector (x's channels in the even lanes, y's in the odd),
   offset (saturating), clamped (_STORE_SAT: where the clamp is int8's range, one VQMOVN.S16 instead), and stored
   by one VSTRB.16 scatter to o[0..3] and o[d..d+3]. The stream begins with
   a header of 4 vectors of int16 lanes: the scatter offsets 0, d, 1, d + 1, ..., the output zero point, the clamp's
   low and high bounds. Sums saturated to int16 before the offset stay outside [lo, hi], so the result equals the
   int32 clamp. MTVM_VB1_RUN: one column (r0 r2 r4 r6), stored with VSTRB.32. Steps: _F/_S/_T as MTVM_VG's, _U a tail that
   is also the first step (VMLADAV on the predicated load's zeros past n). Steps of a group at byte offsets 0..112;
   MTVM_VB2_ADV(k) moves both columns k bytes on (the next group of 8 steps, the next filter row of the image),
   MTVM_VB2_BACK(k) moves them back by the sum at the block's end. `code` may hold two blocks, each ending with its
   store (the loop then runs once per two). */
#ifdef MTVM_MVE
/* A step's 4 filter rows by one VLDM into q4..q7, then the column x (q0) and y (q1) against each. */
#define MTVM_VB_W4 "vldmia %[w]!, {d8-d15}\n\t"
#define MTVM_VB_OP(op) MTVM_VB_W4 op " r0, q0, q4\n\t" op " r2, q0, q5\n\t" op " r4, q0, q6\n\t" op " r6, q0, q7\n\t"
#define MTVM_VB_OP2(op) MTVM_VB_W4 op " r0, q0, q4\n\t" op " r8, q1, q4\n\t" op " r2, q0, q5\n\t" op " r10, q1, q5\n\t" \
    op " r4, q0, q6\n\t" op " r12, q1, q6\n\t" op " r6, q0, q7\n\t" op " lr, q1, q7\n\t"
#define MTVM_VB_LOAD1(pred, o) "vldrb" pred ".8 q0, [%[xp], #" #o "]\n\t"
#define MTVM_VB_LOAD2(pred, o) MTVM_VB_LOAD1(pred, o) "vldrb" pred ".8 q1, [%[yp], #" #o "]\n\t"
#define MTVM_VB1_F(o) MTVM_VB_LOAD1("", o) MTVM_VB_OP("vmladav.s8")
#define MTVM_VB1_S(o) MTVM_VB_LOAD1("", o) MTVM_VB_OP("vmladava.s8")
#define MTVM_VB1_T(o) "vpst\n\t" MTVM_VB_LOAD1("t", o) MTVM_VB_OP("vmladava.s8")
#define MTVM_VB2_F(o) MTVM_VB_LOAD2("", o) MTVM_VB_OP2("vmladav.s8")
#define MTVM_VB2_S(o) MTVM_VB_LOAD2("", o) MTVM_VB_OP2("vmladava.s8")
#define MTVM_VB2_T(o) "vpstt\n\t" MTVM_VB_LOAD2("t", o) MTVM_VB_OP2("vmladava.s8")
#define MTVM_VB1_U(o) "vpst\n\t" MTVM_VB_LOAD1("t", o) MTVM_VB_OP("vmladav.s8")
#define MTVM_VB2_U(o) "vpstt\n\t" MTVM_VB_LOAD2("t", o) MTVM_VB_OP2("vmladav.s8")
/* Two steps (byte offsets a, b: for the emulation) of word-aligned columns by one VLDM per column, forward (_PA: from
   the pointer, which moves on) or backward (_PD: the 32 bytes before it, the pointer moved back), x into q0 q1, y into
   q2 q3; _F: the first of the block. */
#define MTVM_VB_OPQ(op, x, y) MTVM_VB_W4 op " r0, " x ", q4\n\t" op " r8, " y ", q4\n\t" op " r2, " x ", q5\n\t" op " r10, " y ", q5\n\t" \
    op " r4, " x ", q6\n\t" op " r12, " y ", q6\n\t" op " r6, " x ", q7\n\t" op " lr, " y ", q7\n\t"
#define MTVM_VB_OPQ1(op, x) MTVM_VB_W4 op " r0, " x ", q4\n\t" op " r2, " x ", q5\n\t" op " r4, " x ", q6\n\t" op " r6, " x ", q7\n\t"
#define MTVM_VB2_PAIR_(ld, op) ld " %[xp]!, {d0-d3}\n\t" ld " %[yp]!, {d4-d7}\n\t" MTVM_VB_OPQ(op, "q0", "q2") MTVM_VB_OPQ("vmladava.s8", "q1", "q3")
#define MTVM_VB1_PAIR_(ld, op) ld " %[xp]!, {d0-d3}\n\t" MTVM_VB_OPQ1(op, "q0") MTVM_VB_OPQ1("vmladava.s8", "q1")
#define MTVM_VB2_PA(a, b) MTVM_VB2_PAIR_("vldmia", "vmladava.s8")
#define MTVM_VB2_PAF(a, b) MTVM_VB2_PAIR_("vldmia", "vmladav.s8")
#define MTVM_VB2_PD(a, b) MTVM_VB2_PAIR_("vldmdb", "vmladava.s8")
#define MTVM_VB2_PDF(a, b) MTVM_VB2_PAIR_("vldmdb", "vmladav.s8")
#define MTVM_VB1_PA(a, b) MTVM_VB1_PAIR_("vldmia", "vmladava.s8")
#define MTVM_VB1_PAF(a, b) MTVM_VB1_PAIR_("vldmia", "vmladav.s8")
#define MTVM_VB1_PD(a, b) MTVM_VB1_PAIR_("vldmdb", "vmladava.s8")
#define MTVM_VB1_PDF(a, b) MTVM_VB1_PAIR_("vldmdb", "vmladav.s8")
/* Column pointers that move on (word-aligned columns): two steps by one VLDM per column (_Q; _QF the first of the
   block), one step by VLDRB with post-increment (_O; _OF), each leaving the pointers 32 or 16 bytes on; the block's
   last two steps without moving them (_QN, _QNF). */
#define MTVM_VB2_QPAIR_(wb, op) "vldmia %[xp]" wb ", {d0-d3}\n\tvldmia %[yp]" wb ", {d4-d7}\n\t" MTVM_VB_OPQ(op, "q0", "q2") MTVM_VB_OPQ("vmladava.s8", "q1", "q3")
#define MTVM_VB1_QPAIR_(wb, op) "vldmia %[xp]" wb ", {d0-d3}\n\t" MTVM_VB_OPQ1(op, "q0") MTVM_VB_OPQ1("vmladava.s8", "q1")
#define MTVM_VB2_Q MTVM_VB2_QPAIR_("!", "vmladava.s8")
#define MTVM_VB2_QF MTVM_VB2_QPAIR_("!", "vmladav.s8")
#define MTVM_VB2_QN MTVM_VB2_QPAIR_("", "vmladava.s8")
#define MTVM_VB2_QNF MTVM_VB2_QPAIR_("", "vmladav.s8")
#define MTVM_VB1_Q MTVM_VB1_QPAIR_("!", "vmladava.s8")
#define MTVM_VB1_QF MTVM_VB1_QPAIR_("!", "vmladav.s8")
#define MTVM_VB1_QN MTVM_VB1_QPAIR_("", "vmladava.s8")
#define MTVM_VB1_QNF MTVM_VB1_QPAIR_("", "vmladav.s8")
#define MTVM_VB_LOADP1 "vldrb.8 q0, [%[xp]], #16\n\t"
#define MTVM_VB_LOADP2 MTVM_VB_LOADP1 "vldrb.8 q1, [%[yp]], #16\n\t"
#define MTVM_VB2_O MTVM_VB_LOADP2 MTVM_VB_OP2("vmladava.s8")
#define MTVM_VB2_OF MTVM_VB_LOADP2 MTVM_VB_OP2("vmladav.s8")
#define MTVM_VB1_O MTVM_VB_LOADP1 MTVM_VB_OP("vmladava.s8")
#define MTVM_VB1_OF MTVM_VB_LOADP1 MTVM_VB_OP("vmladav.s8")
#define MTVM_VB1_ADV(k) "add %[xp], %[xp], #" #k "\n\t"
#define MTVM_VB2_ADV(k) MTVM_VB1_ADV(k) "add %[yp], %[yp], #" #k "\n\t"
#define MTVM_VB1_BACK(k) "sub %[xp], %[xp], #" #k "\n\t"
#define MTVM_VB2_BACK(k) MTVM_VB1_BACK(k) "sub %[yp], %[yp], #" #k "\n\t"
/* The sums into q0 (x) and q1 (y): one PUSH, one VPOP. Then the block's record of n vectors (bias, left shifts,
   multipliers, mask, negated right shifts, as present) by one VLDM into q2.., each step naming its vector. */
#define MTVM_VB1_SUMS "push {r0, r2, r4, r6}\n\tvpop {d0-d1}\n\t"
#define MTVM_VB2_SUMS "push {r0, r2, r4, r6, r8, r10, r12, lr}\n\tvpop {d0-d3}\n\t"
#define MTVM_VB_REC2 "vldmia %[w]!, {d4-d7}\n\t"
#define MTVM_VB_REC3 "vldmia %[w]!, {d4-d9}\n\t"
#define MTVM_VB_REC4 "vldmia %[w]!, {d4-d11}\n\t"
#define MTVM_VB_REC5 "vldmia %[w]!, {d4-d13}\n\t"
#define MTVM_VB1_BIAS(r) "vadd.i32 q0, q0, " #r "\n\t"
#define MTVM_VB2_BIAS(r) MTVM_VB1_BIAS(r) "vadd.i32 q1, q1, " #r "\n\t"
#define MTVM_VB1_LEFT(r) "vshl.s32 q0, q0, " #r "\n\t"
#define MTVM_VB2_LEFT(r) MTVM_VB1_LEFT(r) "vshl.s32 q1, q1, " #r "\n\t"
#define MTVM_VB1_MUL(r) "vqrdmulh.s32 q0, q0, " #r "\n\t"
#define MTVM_VB2_MUL(r) MTVM_VB1_MUL(r) "vqrdmulh.s32 q1, q1, " #r "\n\t"
#define MTVM_VB_RIGHT_(q, r) "vshr.s32 q7, " q ", #31\n\tvqadd.s32 " q ", " q ", q7\n\tvrshl.s32 " q ", " q ", " #r "\n\t"
#define MTVM_VB1_RIGHT(r) MTVM_VB_RIGHT_("q0", r)
#define MTVM_VB2_RIGHT(r) MTVM_VB_RIGHT_("q0", r) MTVM_VB_RIGHT_("q1", r)
/* The rounding right shift alone (no sign correction): where the clamp's low bound is at or above the output zero
   point, every sum the correction would change (negative ones) ends at that bound either way. */
#define MTVM_VB1_RSHR(r) "vrshl.s32 q0, q0, " #r "\n\t"
#define MTVM_VB2_RSHR(r) MTVM_VB1_RSHR(r) "vrshl.s32 q1, q1, " #r "\n\t"
#define MTVM_VB_FIX_(q, m, r) "vshr.s32 q7, " q ", #31\n\tvand q7, q7, " #m "\n\tvqadd.s32 " q ", " q ", q7\n\tvrshl.s32 " q ", " q ", " #r "\n\t"
#define MTVM_VB1_RIGHT_MIXED(m, r) MTVM_VB_FIX_("q0", m, r)
#define MTVM_VB2_RIGHT_MIXED(m, r) MTVM_VB_FIX_("q0", m, r) MTVM_VB_FIX_("q1", m, r)
/* The header's vectors from the stack (scatter offsets q2, zero point q3, clamp bounds q4 q5), narrowed into q6. */
#define MTVM_VB_CLAMP16 "vqadd.s16 q6, q6, q3\n\tvmax.s16 q6, q6, q4\n\tvmin.s16 q6, q6, q5\n\t"
#define MTVM_VB1_STORE "vldmia sp, {d4-d11}\n\tvqmovnb.s32 q6, q0\n\t" MTVM_VB_CLAMP16 "vstrb.32 q6, [%[o]], #4\n\t"
#define MTVM_VB2_STORE "vldmia sp, {d4-d11}\n\tvqmovnb.s32 q6, q0\n\tvqmovnt.s32 q6, q1\n\t" MTVM_VB_CLAMP16 "vstrb.16 q6, [%[o], q2]\n\tadd %[o], %[o], #4\n\t"
#define MTVM_VB_SAT8 "vqadd.s16 q6, q6, q3\n\tvqmovnb.s16 q6, q6\n\t"
#define MTVM_VB1_STORE_SAT "vldmia sp, {d4-d7}\n\tvqmovnb.s32 q6, q0\n\t" MTVM_VB_SAT8 "vstrb.32 q6, [%[o]], #4\n\t"
#define MTVM_VB2_STORE_SAT "vldmia sp, {d4-d7}\n\tvqmovnb.s32 q6, q0\n\tvqmovnt.s32 q6, q1\n\t" MTVM_VB_SAT8 "vstrb.16 q6, [%[o], q2]\n\tadd %[o], %[o], #4\n\t"
/* Before the loop the header goes to the stack (VPUSH), above it the loop's end, read from memory into r0 (free there:
   its sum is stored): gcc 12 finds no register for a fifth operand in some functions (without optimization r7 is the
   frame pointer; a tail's predicate takes one). The end is read before sp moves (the operand may be sp-relative). */
#define MTVM_VB_HEAD "ldr r0, %[e]\n\tpush {r0, r2}\n\tvldmia %[w]!, {d0-d7}\n\tvpush {d0-d7}\n1:\n\t"
#define MTVM_VB_CLOBBERS "r0", "r2", "r4", "r6", "r8", "r10", "r12", "lr", "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "cc", "memory"
#define MTVM_VB_END "ldr r0, [sp, #64]\n\tcmp %[o], r0\n\tbne 1b\n\tadd sp, sp, #72"
#define MTVM_VB2_ASM(inputs, x, y, dst, stream, blocks, code) do { const int8_t* x_ = (x); const int8_t* y_ = (y); int8_t* o_ = (dst); \
    int8_t* const e_ = o_ + 4 * (blocks); const int32_t* w_ = (stream); \
    __asm__ volatile(MTVM_VB_HEAD code MTVM_VB_END : [w] "+r"(w_), [o] "+r"(o_), [xp] "+r"(x_), [yp] "+r"(y_) \
                     : [e] "m"(e_) inputs : MTVM_VB_CLOBBERS); } while (0)
#define MTVM_VB1_ASM(inputs, x, dst, stream, blocks, code) do { const int8_t* x_ = (x); int8_t* o_ = (dst); \
    int8_t* const e_ = o_ + 4 * (blocks); const int32_t* w_ = (stream); \
    __asm__ volatile(MTVM_VB_HEAD code MTVM_VB_END : [w] "+r"(w_), [o] "+r"(o_), [xp] "+r"(x_) \
                     : [e] "m"(e_) inputs : MTVM_VB_CLOBBERS); } while (0)
#define MTVM_VB2_RUN(x, y, dst, stream, blocks, code) MTVM_VB2_ASM(MTVM_VG_NONE, x, y, dst, stream, blocks, code)
#define MTVM_VB2_RUN_N(x, y, dst, stream, blocks, n, code) MTVM_VB2_ASM(MTVM_VG_PRED(n), x, y, dst, stream, blocks, code)
#define MTVM_VB1_RUN(x, dst, stream, blocks, code) MTVM_VB1_ASM(MTVM_VG_NONE, x, dst, stream, blocks, code)
#define MTVM_VB1_RUN_N(x, dst, stream, blocks, n, code) MTVM_VB1_ASM(MTVM_VG_PRED(n), x, dst, stream, blocks, code)
#else
#define MTVM_VB1_F(o) "f" #o " "
#define MTVM_VB1_S(o) "s" #o " "
#define MTVM_VB1_T(o) "t" #o " "
#define MTVM_VB2_F(o) "f" #o " "
#define MTVM_VB2_S(o) "s" #o " "
#define MTVM_VB2_T(o) "t" #o " "
#define MTVM_VB1_U(o) "u" #o " "
#define MTVM_VB2_U(o) "u" #o " "
#define MTVM_VB1_ADV(k) "a" #k " "
#define MTVM_VB2_ADV(k) "a" #k " "
#define MTVM_VB2_PA(a, b) "s" #a " s" #b " "
#define MTVM_VB2_PAF(a, b) "f" #a " s" #b " "
#define MTVM_VB2_PD(a, b) "s" #a " s" #b " "
#define MTVM_VB2_PDF(a, b) "f" #a " s" #b " "
#define MTVM_VB1_PA(a, b) "s" #a " s" #b " "
#define MTVM_VB1_PAF(a, b) "f" #a " s" #b " "
#define MTVM_VB1_PD(a, b) "s" #a " s" #b " "
#define MTVM_VB1_PDF(a, b) "f" #a " s" #b " "
#define MTVM_VB2_QN "s0 s16 "
#define MTVM_VB2_QNF "f0 s16 "
#define MTVM_VB1_QN "s0 s16 "
#define MTVM_VB1_QNF "f0 s16 "
#define MTVM_VB2_Q "s0 s16 a32 "
#define MTVM_VB2_QF "f0 s16 a32 "
#define MTVM_VB1_Q "s0 s16 a32 "
#define MTVM_VB1_QF "f0 s16 a32 "
#define MTVM_VB2_O "s0 a16 "
#define MTVM_VB2_OF "f0 a16 "
#define MTVM_VB1_O "s0 a16 "
#define MTVM_VB1_OF "f0 a16 "
#define MTVM_VB1_RSHR(r) "h "
#define MTVM_VB2_RSHR(r) "h "
#define MTVM_VB1_BACK(k) ""
#define MTVM_VB2_BACK(k) ""
#define MTVM_VB1_SUMS ""
#define MTVM_VB2_SUMS ""
#define MTVM_VB_REC2 ""
#define MTVM_VB_REC3 ""
#define MTVM_VB_REC4 ""
#define MTVM_VB_REC5 ""
#define MTVM_VB1_BIAS(r) "b "
#define MTVM_VB2_BIAS(r) "b "
#define MTVM_VB1_LEFT(r) "l "
#define MTVM_VB2_LEFT(r) "l "
#define MTVM_VB1_MUL(r) "m "
#define MTVM_VB2_MUL(r) "m "
#define MTVM_VB1_RIGHT(r) "r "
#define MTVM_VB2_RIGHT(r) "r "
#define MTVM_VB1_STORE "z "
#define MTVM_VB2_STORE "z "
#define MTVM_VB1_RIGHT_MIXED(m, r) "x h "
#define MTVM_VB2_RIGHT_MIXED(m, r) "x h "
#define MTVM_VB1_STORE_SAT "y "
#define MTVM_VB2_STORE_SAT "y "
/* Lane i of the int16 vector held in the int32 words at p (little-endian halves). */
MTVM_VFN int32_t mtvm_e_h16(const int32_t* p, int i) { return (int16_t)(uint16_t)(((uint32_t)p[i / 2] >> (16 * (i % 2))) & 0xFFFFu); }
MTVM_VFN int32_t mtvm_e_vb_sat16(int32_t v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
/* A lane through VQMOVN.S32, VQADD.S16 (zero point), then VMAX.S16, VMIN.S16 (lane i of the header's vectors), or
   with sat VQMOVN.S16 instead (the clamp is int8's range). */
MTVM_VFN int8_t mtvm_e_vb_narrow(int32_t v, const int32_t* head, int i, int sat) {
    v = mtvm_e_vb_sat16(mtvm_e_vb_sat16(v) + mtvm_e_h16(head + 4, i));
    if (sat) return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
    v = v < mtvm_e_h16(head + 8, i) ? mtvm_e_h16(head + 8, i) : v;
    v = v > mtvm_e_h16(head + 12, i) ? mtvm_e_h16(head + 12, i) : v;
    return (int8_t)(uint8_t)((uint32_t)v & 0xFFu);
}
/* Runs MTVM_VB2_RUN's block loop: s, t the sums of columns x and y (y NULL: one column); a store ends a block. */
MTVM_VFN void mtvm_e_vb(const int8_t* x, const int8_t* y, int8_t* o, const int32_t* stream, int blocks, int n, const char* code) {
    const int32_t* w = stream + 16;
    int blk = 0, j;
    while (blk < blocks) { /* code runs one block or more (each ends with its store) per pass */
        int32_t s[4] = { 0, 0, 0, 0 }, t[4] = { 0, 0, 0, 0 };
        const int8_t* xb = x;
        const int8_t* yb = y;
        const char* c = code;
        while (*c != '\0') {
            const char op = *c++;
            int off = 0;
            while (*c >= '0' && *c <= '9') off = off * 10 + (*c++ - '0');
            while (*c == ' ') ++c;
            if (op == 'a') { xb += off; if (y) yb += off; continue; }
            if (op == 'z' || op == 'y') {
                for (j = 0; j < 4; ++j) {
                    if (!y) { o[j] = mtvm_e_vb_narrow(s[j], stream, 2 * j, op == 'y'); continue; }
                    o[(uint16_t)mtvm_e_h16(stream, 2 * j)] = mtvm_e_vb_narrow(s[j], stream, 2 * j, op == 'y');
                    o[(uint16_t)mtvm_e_h16(stream, 2 * j + 1)] = mtvm_e_vb_narrow(t[j], stream, 2 * j + 1, op == 'y');
                }
                o += 4;
                ++blk;
                xb = x;
                yb = y;
                continue;
            }
            for (j = 0; j < 4; ++j) {
                if (op == 'f' || op == 's' || op == 't' || op == 'u') {
                    const int8_t* k = (const int8_t*)w + 16 * j;
                    const int bytes = op == 't' || op == 'u' ? n : 16;
                    if (op == 'f' || op == 'u') { s[j] = 0; t[j] = 0; }
                    s[j] = mtvm_e_mladava(s[j], xb + off, k, bytes);
                    if (y) t[j] = mtvm_e_mladava(t[j], yb + off, k, bytes);
                } else if (op == 'b') { s[j] = (int32_t)((uint32_t)s[j] + (uint32_t)w[j]); t[j] = (int32_t)((uint32_t)t[j] + (uint32_t)w[j]); }
                else if (op == 'l') { s[j] = mtvm_e_shl(s[j], w[j]); t[j] = mtvm_e_shl(t[j], w[j]); }
                else if (op == 'm') { s[j] = mtvm_e_qrdmulh(s[j], w[j]); t[j] = mtvm_e_qrdmulh(t[j], w[j]); }
                else if (op == 'x') { s[j] = mtvm_e_qadd(s[j], (s[j] >> 31) & w[j]); t[j] = mtvm_e_qadd(t[j], (t[j] >> 31) & w[j]); }
                else if (op == 'h') { s[j] = mtvm_e_rshl(s[j], w[j]); t[j] = mtvm_e_rshl(t[j], w[j]); }
                else if (op == 'r') {
                    s[j] = mtvm_e_rshl(mtvm_e_qadd(s[j], s[j] >> 31), w[j]);
                    t[j] = mtvm_e_rshl(mtvm_e_qadd(t[j], t[j] >> 31), w[j]);
                }
            }
            w += op == 'f' || op == 's' || op == 't' || op == 'u' ? 16 : 4;
        }
    }
}
#define MTVM_VB2_RUN_N(x, y, o, stream, blocks, n, code) mtvm_e_vb((x), (y), (o), (stream), (blocks), (n), code)
#define MTVM_VB2_RUN(x, y, o, stream, blocks, code) mtvm_e_vb((x), (y), (o), (stream), (blocks), 16, code)
#define MTVM_VB1_RUN_N(x, o, stream, blocks, n, code) mtvm_e_vb((x), (const int8_t*)0, (o), (stream), (blocks), (n), code)
#define MTVM_VB1_RUN(x, o, stream, blocks, code) mtvm_e_vb((x), (const int8_t*)0, (o), (stream), (blocks), 16, code)
#endif
/* The matrix product's gathering (HeliumGemmKernel, runs of 16 bytes or more): n bytes (a constant) copied from s to d,
   or set to v, by 16-byte vector moves, the last tail-predicated (memcpy/memset of a larger run is a call). */
#ifdef MTVM_MVE
static inline void mtvm_v_copy(int8_t* d, const int8_t* s, int n) {
    int i;
    for (i = 0; i + 16 <= n; i += 16) vst1q_s8(d + i, vld1q_s8(s + i));
    if (i < n) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        vstrbq_p_s8(d + i, vldrbq_z_s8(s + i, p), p);
    }
}
static inline void mtvm_v_fill(int8_t* d, int8_t v, int n) {
    const int8x16_t x = vdupq_n_s8(v);
    int i;
    for (i = 0; i + 16 <= n; i += 16) vst1q_s8(d + i, x);
    if (i < n) vstrbq_p_s8(d + i, x, vctp8q((uint32_t)(n - i)));
}
#else
MTVM_VFN void mtvm_v_copy(int8_t* d, const int8_t* s, int n) { int i; for (i = 0; i < n; ++i) d[i] = s[i]; }
MTVM_VFN void mtvm_v_fill(int8_t* d, int8_t v, int n) { int i; for (i = 0; i < n; ++i) d[i] = v; }
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
