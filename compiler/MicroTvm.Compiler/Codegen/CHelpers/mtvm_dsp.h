/* The Armv7E-M / Armv8-M DSP instructions the DSP kernels use (Kernels/Dsp). With __ARM_FEATURE_DSP they are the
   ACLE intrinsics of <arm_acle.h> or single instructions in inline assembly (SXTB16 with its free ROR #8, SMMULR,
   SMMLAR, SSAT with a shift, BFI, SSUB8 + SEL, which ACLE lacks); everywhere else (the host tests, or with
   -DMICROTVM_PORTABLE_DSP) portable C with the exact semantics of the instructions, so the host runs the very kernel
   logic the target runs. Packed 16-bit values: pairs of int16 in one int32, low half first. */
#ifndef MTVM_DSP_H
#define MTVM_DSP_H
#include <stdint.h>
#include <string.h>

/* the low and high int16 halves of v, and two int16 packed into one word */
static inline int32_t mtvm_lo16(int32_t v) { return (int32_t)(int16_t)(uint16_t)((uint32_t)v & 0xFFFFu); }
static inline int32_t mtvm_hi16(int32_t v) { return (int32_t)(int16_t)(uint16_t)((uint32_t)v >> 16); }
static inline int32_t mtvm_pack16(int32_t lo, int32_t hi) { return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16)); }
/* 4 bytes from any address (one LDR on Armv7-M and later, which allow unaligned word loads). */
static inline uint32_t mtvm_load4(const int8_t* p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline int32_t mtvm_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__GNUC__) && !defined(MICROTVM_PORTABLE_DSP)
#include <arm_acle.h>
#define MTVM_DSP_ASM 1
/* acc + lo(a)*lo(b) + hi(a)*hi(b) */
static inline int32_t mtvm_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }
/* acc + lo(a)*lo(b) */
static inline int32_t mtvm_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
/* acc + hi(a)*hi(b) */
static inline int32_t mtvm_smlatt(int32_t a, int32_t b, int32_t acc) { return __smlatt(a, b, acc); }
/* acc + lo(a)*hi(b), and acc + hi(a)*lo(b) */
static inline int32_t mtvm_smlabt(int32_t a, int32_t b, int32_t acc) { return __smlabt(a, b, acc); }
static inline int32_t mtvm_smlatb(int32_t a, int32_t b, int32_t acc) { return __smlatb(a, b, acc); }
/* acc + the high 32 bits of the 48-bit product a * lo(b) (or hi(b)): a 32-bit multiplier on a 16-bit lane */
static inline int32_t mtvm_smlawb(int32_t a, int32_t b, int32_t acc) { return __smlawb(a, b, acc); }
static inline int32_t mtvm_smlawt(int32_t a, int32_t b, int32_t acc) { return __smlawt(a, b, acc); }
/* both int16 halves of v saturated to [0, 255] (USAT16 #8) */
static inline int32_t mtvm_usat16_8(int32_t v) { int32_t r; __asm__("usat16 %0, #8, %1" : "=r"(r) : "r"(v) : "cc"); return r; }
/* bytes 0 and 2 of v in the high bytes of the low and high halves (the values times 256): one AND with a shifted
   operand, the mask in a register */
static inline int32_t mtvm_bytes02_hi(uint32_t v) { int32_t r; __asm__("and %0, %1, %2, lsl #8" : "=r"(r) : "r"(0xFF00FF00u), "r"(v)); return r; }
/* bytes 0 and 2 of v, sign-extended into the low and high halves */
static inline int32_t mtvm_sxtb16(uint32_t v) { return __sxtb16((int8x4_t)v); }
/* bytes 1 and 3 of v, sign-extended into the low and high halves (one instruction: SXTB16 with ROR #8) */
static inline int32_t mtvm_sxtb16_ror8(uint32_t v) { int32_t r; __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v)); return r; }
/* acc + bytes 0 and 2 of v, sign-extended, as two int16 lanes (SXTAB16) */
static inline int32_t mtvm_sxtab16(int32_t acc, uint32_t v) { return __sxtab16(acc, (int8x4_t)v); }
/* acc + bytes 1 and 3 of v (SXTAB16 with its free ROR #8) */
static inline int32_t mtvm_sxtab16_ror8(int32_t acc, uint32_t v) { int32_t r; __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(v)); return r; }
/* the low halves of a and b, and their high halves, as one pair each (PKHBT, PKHTB) */
static inline int32_t mtvm_pack_lo16(int32_t a, int32_t b) { int32_t r; __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b)); return r; }
static inline int32_t mtvm_pack_hi16(int32_t a, int32_t b) { int32_t r; __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(a), "r"(b)); return r; }
/* (a * b + 2^31) >> 32, the rounded high word (SMMULR) */
static inline int32_t mtvm_smmulr(int32_t a, int32_t b) { int32_t r; __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
/* acc + (a * b + 2^31) / 2^32, the rounded high word of the product added to acc (SMMLAR) */
static inline int32_t mtvm_smmlar(int32_t a, int32_t b, int32_t acc) { int32_t r; __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc)); return r; }
/* acc + floor(a * b / 2^32), the truncated high word of the product added to acc (SMMLA) */
static inline int32_t mtvm_smmla(int32_t a, int32_t b, int32_t acc) { int32_t r; __asm__("smmla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc)); return r; }
/* v saturated to int8 (SSAT) and to [0, 255] (USAT); the builtin, not ACLE's __ssat, whose macro converts the
   builtin's unsigned result to int32_t (a -Wsign-conversion warning at every use) */
static inline int32_t mtvm_ssat8(int32_t v) { return (int32_t)__builtin_arm_ssat(v, 8); }
static inline int32_t mtvm_usat8(int32_t v) { return (int32_t)__usat(v, 8); }
/* v saturated to int16 (SSAT #16) */
static inline int32_t mtvm_ssat16(int32_t v) { return (int32_t)__builtin_arm_ssat(v, 16); }
/* x >> e saturated to int8 in one SSAT (e a literal in 1..31) */
#define MTVM_SSAT8_ASR(r, x, e) __asm__("ssat %0, #8, %1, asr #" #e : "=r"(r) : "r"(x))
/* bits 0..7 of v into bits lsb..lsb+7 of w (BFI) */
#define MTVM_BFI8(w, v, lsb) __asm__("bfi %0, %1, #" #lsb ", #8" : "+r"(w) : "r"(v))
/* bytewise signed max / min of four int8 lanes (SSUB8 sets the GE flags SEL reads: one asm block keeps them together) */
static inline uint32_t mtvm_max8(uint32_t a, uint32_t b) { uint32_t r; __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc"); return r; }
static inline uint32_t mtvm_min8(uint32_t a, uint32_t b) { uint32_t r; __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc"); return r; }
/* 4 bytes from p, then p += 4 (one LDR with post-increment; any alignment) */
#define MTVM_LOAD4_NEXT(v, p) __asm__("ldr %0, [%1], #4" : "=r"(v), "+r"(p) : "m"(*(const int8_t(*)[4])(p)))
/* two consecutive words, then p += 2 (one LDRD with post-increment; words need only 4-byte alignment) */
#define MTVM_LOAD2(lo, hi, p) __asm__("ldrd %0, %1, [%2], #8" : "=&r"(lo), "=&r"(hi), "+r"(p) : : "memory")
/* words i and i + 1 of p (i a literal; one LDRD with an immediate offset; p is not moved; only those two words are
   read, so gcc may schedule it freely between stores elsewhere) */
#define MTVM_LOAD_PAIR(lo, hi, p, i) __asm__("ldrd %0, %1, [%2, %3]" : "=r"(lo), "=r"(hi) : "r"(p), "n"(4 * (i)), "m"(*(const int32_t(*)[2])((p) + (i))))
/* two words to p, then p += 4 (one STRD with post-increment: one pixel's half of an interleaved column) */
#define MTVM_STORE2_SKIP2(lo, hi, p) __asm__ volatile("strd %1, %2, [%0], #16" : "+r"(p) : "r"(lo), "r"(hi) : "memory")
/* words i and i + 1 of p (i a literal; one STRD with an immediate offset; p is not moved) */
#define MTVM_STORE_PAIR(lo, hi, p, i) __asm__("strd %1, %2, [%3, %4]" : "=m"(*(int32_t(*)[2])((p) + (i))) : "r"(lo), "r"(hi), "r"(p), "n"(4 * (i)))
/* loads after this stay after it (gcc would otherwise hoist them and spill what they hold) */
#define MTVM_LOADS_AFTER() __asm__ volatile("" : : : "memory")
#else
/* 32-bit wrap-around like the instruction (the Q flag is not modelled: nothing reads it). */
static inline int32_t mtvm_smlad(int32_t a, int32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(mtvm_lo16(a) * mtvm_lo16(b)) + (uint32_t)(mtvm_hi16(a) * mtvm_hi16(b)));
}
static inline int32_t mtvm_smlabb(int32_t a, int32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mtvm_lo16(a) * mtvm_lo16(b))); }
static inline int32_t mtvm_smlatt(int32_t a, int32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mtvm_hi16(a) * mtvm_hi16(b))); }
static inline int32_t mtvm_smlabt(int32_t a, int32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mtvm_lo16(a) * mtvm_hi16(b))); }
static inline int32_t mtvm_smlatb(int32_t a, int32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mtvm_hi16(a) * mtvm_lo16(b))); }
static inline int32_t mtvm_smlawb(int32_t a, int32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(int32_t)(((int64_t)a * mtvm_lo16(b)) >> 16)); }
static inline int32_t mtvm_smlawt(int32_t a, int32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(int32_t)(((int64_t)a * mtvm_hi16(b)) >> 16)); }
static inline int32_t mtvm_bytes02_hi(uint32_t v) { return (int32_t)((v << 8) & 0xFF00FF00u); }
static inline int32_t mtvm_usat16_8(int32_t v) {
    const int32_t lo = mtvm_lo16(v), hi = mtvm_hi16(v);
    return mtvm_pack16(lo < 0 ? 0 : lo > 255 ? 255 : lo, hi < 0 ? 0 : hi > 255 ? 255 : hi);
}
static inline int32_t mtvm_sxtb16(uint32_t v) { return mtvm_pack16((int8_t)(uint8_t)(v & 0xFFu), (int8_t)(uint8_t)((v >> 16) & 0xFFu)); }
static inline int32_t mtvm_sxtb16_ror8(uint32_t v) { return mtvm_pack16((int8_t)(uint8_t)((v >> 8) & 0xFFu), (int8_t)(uint8_t)(v >> 24)); }
static inline int32_t mtvm_sxtab16(int32_t acc, uint32_t v) {
    return mtvm_pack16(mtvm_lo16(acc) + (int8_t)(uint8_t)(v & 0xFFu), mtvm_hi16(acc) + (int8_t)(uint8_t)((v >> 16) & 0xFFu));
}
static inline int32_t mtvm_sxtab16_ror8(int32_t acc, uint32_t v) { return mtvm_sxtab16(acc, v >> 8); }
static inline int32_t mtvm_pack_lo16(int32_t a, int32_t b) { return mtvm_pack16(mtvm_lo16(a), mtvm_lo16(b)); }
static inline int32_t mtvm_pack_hi16(int32_t a, int32_t b) { return mtvm_pack16(mtvm_hi16(a), mtvm_hi16(b)); }
static inline int32_t mtvm_smmulr(int32_t a, int32_t b) { return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32); }
static inline int32_t mtvm_smmlar(int32_t a, int32_t b, int32_t acc) {
    const uint64_t sum = ((uint64_t)(uint32_t)acc << 32) + (uint64_t)((int64_t)a * b) + 0x80000000u;
    return (int32_t)(uint32_t)(sum >> 32);
}
static inline int32_t mtvm_smmla(int32_t a, int32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(int32_t)(((int64_t)a * b) >> 32));
}
static inline int32_t mtvm_ssat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline int32_t mtvm_usat8(int32_t v) { return v < 0 ? 0 : v > 255 ? 255 : v; }
static inline int32_t mtvm_ssat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
#define MTVM_SSAT8_ASR(r, x, e) ((r) = mtvm_ssat8((x) >> (e)))
#define MTVM_BFI8(w, v, lsb) ((w) = (int32_t)(((uint32_t)(w) & ~(0xFFu << (lsb))) | (((uint32_t)(v) & 0xFFu) << (lsb))))
static inline uint32_t mtvm_lanes8(uint32_t a, uint32_t b, int max) {
    uint32_t r = 0;
    int i;
    for (i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(uint8_t)(a >> i), y = (int8_t)(uint8_t)(b >> i);
        r |= (uint32_t)(uint8_t)((x > y) == (max != 0) ? x : y) << i;
    }
    return r;
}
static inline uint32_t mtvm_max8(uint32_t a, uint32_t b) { return mtvm_lanes8(a, b, 1); }
static inline uint32_t mtvm_min8(uint32_t a, uint32_t b) { return mtvm_lanes8(a, b, 0); }
#define MTVM_LOAD2(lo, hi, p) do { (lo) = (p)[0]; (hi) = (p)[1]; (p) += 2; } while (0)
#define MTVM_LOAD4_NEXT(v, p) do { (v) = mtvm_load4(p); (p) += 4; } while (0)
#define MTVM_LOAD_PAIR(lo, hi, p, i) do { (lo) = (p)[i]; (hi) = (p)[(i) + 1]; } while (0)
#define MTVM_STORE2_SKIP2(lo, hi, p) do { (p)[0] = (lo); (p)[1] = (hi); (p) += 4; } while (0)
#define MTVM_STORE_PAIR(lo, hi, p, i) do { (p)[i] = (lo); (p)[(i) + 1] = (hi); } while (0)
#define MTVM_LOADS_AFTER() ((void)0)
#endif

#endif
