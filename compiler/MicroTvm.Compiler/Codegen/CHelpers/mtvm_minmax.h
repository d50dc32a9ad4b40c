/* Minimum and maximum of two values. */
#ifndef MTVM_MINMAX_H
#define MTVM_MINMAX_H
#include <stdint.h>

static inline int32_t mtvm_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t mtvm_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline float mtvm_min_f32(float a, float b) { return a < b ? a : b; }
static inline float mtvm_max_f32(float a, float b) { return a > b ? a : b; }

#endif
