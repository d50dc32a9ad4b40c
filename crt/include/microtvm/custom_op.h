/*
 * MicroTvm custom operators: the C signature of a TFLite custom operator's implementation.
 *
 *   int MyVendorOp(const microtvm_custom_op* op);   // 0: success; anything else makes <model>_run return -2
 *
 * A model whose operator has custom_code "MyVendorOp" calls this function (the name with characters other than
 * letters, digits and '_' made '_') where the operator runs. Supply it in a firmware project with
 *   <MicroModelOperator Include="myop.c" Name="MyVendorOp" ScratchBytes="256" />
 * (docs/generated-c.md, "Custom operators"). C99, no allocation: the outputs' shapes are the ones the model
 * declares, their memory is planned, and working memory is op->scratch.
 */
#ifndef MICROTVM_CUSTOM_OP_H
#define MICROTVM_CUSTOM_OP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element type codes, shared by every MicroTvm model header. */
#ifndef MICROTVM_TYPE_CODES
#define MICROTVM_TYPE_CODES
#define MICROTVM_TYPE_FLOAT32 0
#define MICROTVM_TYPE_INT8 1
#define MICROTVM_TYPE_UINT8 2
#define MICROTVM_TYPE_INT16 3
#define MICROTVM_TYPE_INT32 4
#define MICROTVM_TYPE_INT64 5
#define MICROTVM_TYPE_BOOL 6
#endif

/* One operand. real = scale * (q - zero_point) for quantized types (per channel along quantized_dimension when
 * channel_count > 1: scales[c], zero_points[c]). An absent optional input (-1 in the model) has data NULL and type -1. */
typedef struct microtvm_tensor {
    void* data;                  /* row-major, little-endian; inputs are read only (constant ones are in flash) */
    size_t bytes;                /* size of data */
    int32_t type;                /* MICROTVM_TYPE_* */
    int32_t rank;
    const int32_t* shape;        /* rank dimensions (NULL for rank 0) */
    float scale;                 /* quantization (the first channel's); 0 when not quantized (and for float32) */
    int32_t zero_point;
    int32_t channel_count;       /* 0: not quantized, 1: per tensor, more: per channel */
    int32_t quantized_dimension;
    const float* scales;         /* channel_count entries, NULL when not quantized */
    const int32_t* zero_points;  /* channel_count entries, NULL when not quantized */
} microtvm_tensor;

/* One call of a custom operator. Everything it points at lives for this call only. */
typedef struct microtvm_custom_op {
    const char* name;            /* the model's custom_code */
    int32_t operator_index;      /* the operator's index in the model */
    int32_t input_count;
    const microtvm_tensor* inputs;
    int32_t output_count;
    const microtvm_tensor* outputs;  /* write outputs[j].data; the shapes are the model's declared ones */
    const uint8_t* options;      /* the operator's custom_options bytes as stored (const, in flash); NULL when none */
    size_t options_size;
    void* scratch;               /* scratch_size bytes of the workspace, aligned to 8 bytes at least; NULL when none */
    size_t scratch_size;         /* the ScratchBytes the project gave (--custom-op NAME:BYTES) */
} microtvm_custom_op;

#ifdef __cplusplus
}
#endif

#endif /* MICROTVM_CUSTOM_OP_H */
