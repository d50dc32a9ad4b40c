/* TFLite's int8 mean of a pooling window (the DSP and Helium AVERAGE_POOL_2D kernels). */
#ifndef MTVM_POOL_MEAN_H
#define MTVM_POOL_MEAN_H
#include <stdint.h>

/* (sum ± count / 2) / count, truncated, clamped to [lo, hi] */
static inline int8_t mtvm_pool_mean(int32_t sum, int count, int32_t lo, int32_t hi) {
    int32_t m = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    m = m < lo ? lo : m;
    return (int8_t)(m > hi ? hi : m);
}

#endif
