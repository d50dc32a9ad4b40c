/* The Helium broadcasting ADD/SUB kernel's step (Kernels/Helium/HeliumBroadcastAddKernel.cs): one input's table entries
   gathered four lanes at a time, the broadcast input's entry (one per row) added to every lane. */
#ifndef MTVM_MVE_ADD_BCAST_H
#define MTVM_MVE_ADD_BCAST_H
#include <stdint.h>
#include "mtvm_mve_add.h"

#ifdef MTVM_MVE
/* t[x[i]] + s for four lanes (the first n with n < 4; the other lanes are not stored) */
static inline mtvm_i32x4 mtvm_addb_sum4(const int32_t* t, const uint8_t* x, int32_t s) {
    return vaddq_n_s32(vldrwq_gather_shifted_offset_s32(t, vldrbq_u32(x)), s);
}
static inline mtvm_i32x4 mtvm_addb_sum4_n(const int32_t* t, const uint8_t* x, int32_t s, int n) {
    const mve_pred16_t p = vctp32q((uint32_t)n);
    return vaddq_n_s32(vldrwq_gather_shifted_offset_z_s32(t, vldrbq_z_u32(x, p), p), s);
}
#else
static inline mtvm_i32x4 mtvm_addb_sum4_n(const int32_t* t, const uint8_t* x, int32_t s, int n) {
    mtvm_i32x4 r;
    int i;
    for (i = 0; i < 4; ++i) r.lane[i] = (int32_t)((uint32_t)(i < n ? t[x[i]] : 0) + (uint32_t)s);
    return r;
}
static inline mtvm_i32x4 mtvm_addb_sum4(const int32_t* t, const uint8_t* x, int32_t s) { return mtvm_addb_sum4_n(t, x, s, 4); }
#endif

#endif
