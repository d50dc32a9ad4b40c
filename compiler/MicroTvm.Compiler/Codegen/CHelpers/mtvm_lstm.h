/* TensorFlow Lite Micro's integer LSTM gate functions: the 16-bit sigmoid and tanh, read from the 256-entry sigmoid
   table with linear interpolation, as Reference/ActivationKernels.cs computes them. */
#ifndef MTVM_LSTM_H
#define MTVM_LSTM_H
#include <stdint.h>

static inline int32_t mtvm_clamp_i16(int32_t x) { return x < -32768 ? -32768 : x > 32767 ? 32767 : x; }

/* sigmoid of a table-scaled input (1.0 = 3 * 4096 units), Q0.15; entries are 2^9 units apart. */
static inline int32_t mtvm_sigmoid_q15(const uint16_t* table, int32_t scaled) {
    const uint32_t magnitude = (uint32_t)(scaled < 0 ? -scaled : scaled);
    const uint32_t index = magnitude >> 9;
    uint32_t r = index >= 255 ? (0x7FFFu << 10)
        : ((uint32_t)table[index] << 9) + (magnitude & 0x1FFu) * (uint32_t)(table[index + 1] - table[index]);
    r = scaled >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    return (int16_t)(r >> 10);
}

/* tanh of a table-scaled input, as 2 * sigmoid(2x) - 1, Q0.15; entries are 2^8 units apart. */
static inline int32_t mtvm_tanh_q15(const uint16_t* table, int32_t scaled) {
    const uint32_t magnitude = (uint32_t)(scaled < 0 ? -scaled : scaled);
    const uint32_t index = magnitude >> 8;
    int32_t r = index >= 255 ? (int32_t)(0xFFFFu << 8)
        : (int32_t)(((uint32_t)table[index] << 8) + (magnitude & 0xFFu) * (uint32_t)(table[index + 1] - table[index]));
    r = scaled >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

#endif
