/* MicroTvm RPC server: answers the host's calls on the models of this image (docs/rpc.md). Calls are rows of one
 * table (calls[] below): a new call is a new handler and a new row, the framing does not change. */
#include <string.h>

#include "microtvm/platform.h"
#include "microtvm/rpc.h"

static microtvm_rpc_parser parser;
static uint8_t response_frame[MICROTVM_RPC_FRAME_CAPACITY];
static size_t response_size;          /* bytes of response_frame to send again for a repeated request */
static uint16_t response_sequence;
static uint8_t response_call;
static int response_valid;
static uint16_t traced_operators;     /* operators the last run timed (profiling builds) */
static uint64_t trace_last;           /* when the last operator ended (profiling builds) */

static void put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    put_u16(p, v);
    put_u16(p + 2, v >> 16);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Appends a length-prefixed string (at most 255 bytes); returns the bytes written, 0 if it does not fit. */
static size_t put_string(uint8_t *p, size_t capacity, const char *text)
{
    size_t length = text != NULL ? strlen(text) : 0u;
    if (length > 255u) {
        length = 255u;
    }
    if (length + 1u > capacity) {
        return 0;
    }
    p[0] = (uint8_t)length;
    memcpy(p + 1, text, length);
    return length + 1u;
}

static const microtvm_rpc_model *model_at(const uint8_t *request, size_t length)
{
    if (length < 1u || request[0] >= microtvm_rpc_image_info.model_count) {
        return NULL;
    }
    return &microtvm_rpc_image_info.models[request[0]];
}

/* HELLO: protocol version, max payload, timer and CPU clock, model count, build id, board, CPU. */
static uint8_t call_hello(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    (void)request;
    (void)length;
    const microtvm_rpc_image *image = &microtvm_rpc_image_info;
    if (capacity < 16u) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    put_u16(out, MICROTVM_RPC_PROTOCOL_VERSION);
    put_u16(out + 2, MICROTVM_RPC_MAX_PAYLOAD);
    put_u32(out + 4, microtvm_timer_frequency_hz());
    put_u32(out + 8, image->cpu_clock_hz);
    put_u16(out + 12, image->model_count);
    put_u16(out + 14, image->operator_ticks != NULL ? image->operator_capacity : 0u);
    size_t n = 16u;
    n += put_string(out + n, capacity - n, image->build_id);
    n += put_string(out + n, capacity - n, image->board);
    n += put_string(out + n, capacity - n, image->cpu);
    *written = n;
    return MICROTVM_RPC_OK;
}

static uint8_t call_echo(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    if (length > capacity) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    memcpy(out, request, length);
    *written = length;
    return MICROTVM_RPC_OK;
}

static size_t put_tensor(uint8_t *out, size_t capacity, const microtvm_rpc_tensor *t)
{
    size_t need = 2u + 4u * t->rank + 12u;
    if (need > capacity) {
        return 0;
    }
    out[0] = t->type;
    out[1] = t->rank;
    size_t n = 2u;
    for (uint8_t d = 0; d < t->rank; d++, n += 4u) {
        put_u32(out + n, (uint32_t)t->shape[d]);
    }
    uint32_t scale_bits;
    memcpy(&scale_bits, &t->scale, 4);
    put_u32(out + n, scale_bits);
    put_u32(out + n + 4u, (uint32_t)t->zero_point);
    put_u32(out + n + 8u, t->bytes);
    return need;
}

/* DESCRIBE_MODEL(model): name, workspace bytes, operator count, inputs and outputs (type, shape, scale,
 * zero point, bytes). */
static uint8_t call_describe(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    const microtvm_rpc_model *m = model_at(request, length);
    if (m == NULL) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    size_t n = put_string(out, capacity, m->name);
    if (n == 0u || capacity - n < 8u) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    put_u32(out + n, m->workspace_bytes);
    put_u16(out + n + 4u, m->operator_count);
    out[n + 6u] = m->input_count;
    out[n + 7u] = m->output_count;
    n += 8u;
    for (int i = 0; i < m->input_count + m->output_count; i++) {
        const microtvm_rpc_tensor *t = i < m->input_count ? &m->inputs[i] : &m->outputs[i - m->input_count];
        size_t k = put_tensor(out + n, capacity - n, t);
        if (k == 0u) {
            return MICROTVM_RPC_BAD_ARGUMENT;
        }
        n += k;
    }
    *written = n;
    return MICROTVM_RPC_OK;
}

/* Checks that [offset, offset + count) lies inside a tensor of the given size. */
static int in_bounds(uint32_t offset, size_t count, uint32_t bytes)
{
    return offset <= bytes && count <= (size_t)(bytes - offset);
}

/* WRITE_INPUT(model, input, offset u32, bytes...). */
static uint8_t call_write_input(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    (void)out;
    (void)capacity;
    (void)written;
    const microtvm_rpc_model *m = model_at(request, length);
    if (m == NULL || length < 6u || request[1] >= m->input_count) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    uint32_t offset = get_u32(request + 2);
    size_t count = length - 6u;
    if (!in_bounds(offset, count, m->inputs[request[1]].bytes)) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    memcpy(m->input(request[1]) + offset, request + 6, count);
    return MICROTVM_RPC_OK;
}

/* RUN(model, count u16): per run, status (i32) and timer ticks (u64). */
static uint8_t call_run(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    const microtvm_rpc_model *m = model_at(request, length);
    if (m == NULL || length < 3u) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    uint32_t count = (uint32_t)request[1] | ((uint32_t)request[2] << 8);
    if (count == 0u || count > capacity / 12u) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    uint8_t status = MICROTVM_RPC_OK;
    for (uint32_t i = 0; i < count; i++) {
        if (m->prepare != NULL) {
            m->prepare();
        }
        traced_operators = 0;
        uint64_t start = microtvm_timer_now();
        trace_last = start;
        int result = m->run();
        uint64_t ticks = microtvm_timer_now() - start;
        put_u32(out + 12u * i, (uint32_t)result);
        put_u32(out + 12u * i + 4u, (uint32_t)ticks);
        put_u32(out + 12u * i + 8u, (uint32_t)(ticks >> 32));
        if (result != 0) {
            status = MICROTVM_RPC_RUN_FAILED;
        }
    }
    *written = 12u * count;
    return status;
}

/* READ_OUTPUT(model, output, offset u32, count u16). */
static uint8_t call_read_output(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    const microtvm_rpc_model *m = model_at(request, length);
    if (m == NULL || length < 8u || request[1] >= m->output_count) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    uint32_t offset = get_u32(request + 2);
    size_t count = (size_t)request[6] | ((size_t)request[7] << 8);
    if (count > capacity || !in_bounds(offset, count, m->outputs[request[1]].bytes)) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    memcpy(out, m->output(request[1]) + offset, count);
    *written = count;
    return MICROTVM_RPC_OK;
}

/* OPERATOR_TIMES(first u16): operators timed by the last run (u16), first, then ticks (u32) from first on. */
static uint8_t call_operator_times(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    const microtvm_rpc_image *image = &microtvm_rpc_image_info;
    if (image->operator_ticks == NULL) {
        return MICROTVM_RPC_NOT_PROFILED;
    }
    if (length < 2u) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    uint16_t total = traced_operators < image->operator_capacity ? traced_operators : image->operator_capacity;
    uint16_t first = (uint16_t)(request[0] | (request[1] << 8));
    size_t n = 4u;
    put_u16(out, total);
    put_u16(out + 2, first);
    for (uint32_t k = first; k < total && n + 4u <= capacity; k++, n += 4u) {
        put_u32(out + n, image->operator_ticks[k]);
    }
    *written = n;
    return MICROTVM_RPC_OK;
}

/* The DWT cycle counter (Armv7-M/Armv8-M mainline; boards whose core has one define MICROTVM_BOARD_HAS_DWT). */
#ifdef MICROTVM_BOARD_HAS_DWT
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
static uint64_t cycles_now(void)
{
    static uint32_t last;
    static uint64_t high;
    uint32_t now = DWT_CYCCNT;
    if (now < last) {
        high += 1ull << 32;
    }
    last = now;
    return high | now;
}
#endif

/* TIME_MODEL(model, repeats u16, clock u8: 0 the board timer, 1 DWT cycles): runs the model `repeats` times and
 * answers runs (u16), then the minimum, maximum and total time (u64 each) in the clock's ticks. The tuner's call: one
 * answer for any number of runs, the minimum being its figure (docs/tuning.md). */
static uint8_t call_time_model(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    const microtvm_rpc_model *m = model_at(request, length);
    if (m == NULL || length < 4u || capacity < 26u) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    uint32_t repeats = (uint32_t)request[1] | ((uint32_t)request[2] << 8);
    uint8_t clock = request[3];
    if (repeats == 0u || clock > 1u) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
#ifdef MICROTVM_BOARD_HAS_DWT
    if (clock == 1u) {
        DEMCR |= 1u << 24;    /* TRCENA */
        DWT_CTRL |= 1u;       /* CYCCNTENA */
    }
#else
    if (clock == 1u) {
        return MICROTVM_RPC_NO_CYCLE_COUNTER;
    }
#endif
    uint64_t least = UINT64_MAX, most = 0, total = 0;
    for (uint32_t i = 0; i < repeats; i++) {
        if (m->prepare != NULL) {
            m->prepare();
        }
        traced_operators = 0;
#ifdef MICROTVM_BOARD_HAS_DWT
        uint64_t start = clock == 1u ? cycles_now() : microtvm_timer_now();
        trace_last = start;
        int result = m->run();
        uint64_t ticks = (clock == 1u ? cycles_now() : microtvm_timer_now()) - start;
#else
        uint64_t start = microtvm_timer_now();
        trace_last = start;
        int result = m->run();
        uint64_t ticks = microtvm_timer_now() - start;
#endif
        if (result != 0) {
            return MICROTVM_RPC_RUN_FAILED;
        }
        least = ticks < least ? ticks : least;
        most = ticks > most ? ticks : most;
        total += ticks;
    }
    put_u16(out, repeats);
    const uint64_t values[3] = { least, most, total };
    for (int k = 0; k < 3; k++) {
        put_u32(out + 2 + 8 * k, (uint32_t)values[k]);
        put_u32(out + 6 + 8 * k, (uint32_t)(values[k] >> 32));
    }
    *written = 26u;
    return MICROTVM_RPC_OK;
}

extern uint32_t __data_start[], __data_end[], __bss_start[], __bss_end[], __stack_top[];
#define STACK_PAINT 0x5AA5C33Cu

/* Fills the unused stack (below this function's frame) with a pattern; the high-water mark is where it ends. */
static void __attribute__((noinline)) paint_stack(void)
{
    uint32_t *p = __bss_end;
    uint32_t *const limit = (uint32_t *)__builtin_frame_address(0) - 64;
    while (p < limit) {
        *p++ = STACK_PAINT;
    }
}

/* MEMORY: workspace bytes (all models), stack high-water mark, stack size, .data, .bss, server buffer bytes. */
static uint8_t call_memory(const uint8_t *request, size_t length, uint8_t *out, size_t capacity, size_t *written)
{
    (void)request;
    (void)length;
    if (capacity < 24u) {
        return MICROTVM_RPC_BAD_ARGUMENT;
    }
    uint32_t workspace = 0;
    for (uint16_t i = 0; i < microtvm_rpc_image_info.model_count; i++) {
        workspace += microtvm_rpc_image_info.models[i].workspace_bytes;
    }
    const uint32_t *p = __bss_end;
    while (p < __stack_top && *p == STACK_PAINT) {
        p++;
    }
    put_u32(out, workspace);
    put_u32(out + 4, (uint32_t)((const uint8_t *)__stack_top - (const uint8_t *)p));
    put_u32(out + 8, (uint32_t)((const uint8_t *)__stack_top - (const uint8_t *)__bss_end));
    put_u32(out + 12, (uint32_t)((const uint8_t *)__data_end - (const uint8_t *)__data_start));
    put_u32(out + 16, (uint32_t)((const uint8_t *)__bss_end - (const uint8_t *)__bss_start));
    put_u32(out + 20, (uint32_t)(sizeof parser.buffer + sizeof response_frame));
    *written = 24u;
    return MICROTVM_RPC_OK;
}

static const microtvm_rpc_handler calls[] = {
    [MICROTVM_RPC_HELLO] = call_hello,
    [MICROTVM_RPC_ECHO] = call_echo,
    [MICROTVM_RPC_DESCRIBE_MODEL] = call_describe,
    [MICROTVM_RPC_WRITE_INPUT] = call_write_input,
    [MICROTVM_RPC_RUN] = call_run,
    [MICROTVM_RPC_READ_OUTPUT] = call_read_output,
    [MICROTVM_RPC_OPERATOR_TIMES] = call_operator_times,
    [MICROTVM_RPC_MEMORY] = call_memory,
    [MICROTVM_RPC_TIME_MODEL] = call_time_model,
};

static void send_response(uint16_t sequence, uint8_t call, uint8_t status, size_t data_length)
{
    uint8_t *payload = response_frame + MICROTVM_RPC_HEADER_SIZE;
    payload[0] = call;
    payload[1] = status;
    response_size = microtvm_rpc_frame_encode(response_frame, sequence, payload, 2u + data_length);
    microtvm_board_rpc_write(response_frame, response_size);
}

void microtvm_rpc_handle_frame(microtvm_rpc_parser *p)
{
    const uint8_t *frame = p->buffer;
    uint16_t sequence = microtvm_rpc_frame_sequence(frame);
    size_t length = microtvm_rpc_frame_length(frame);
    const uint8_t *request = frame + MICROTVM_RPC_HEADER_SIZE;
    uint8_t call = length > 0u ? request[0] : 0xFFu;

    /* A repeated request (the host did not get our answer): send the same answer, do not run anything twice. */
    if (response_valid && sequence == response_sequence && call == response_call) {
        microtvm_board_rpc_write(response_frame, response_size);
        return;
    }
    uint8_t *data = response_frame + MICROTVM_RPC_HEADER_SIZE + 2u;
    size_t data_length = 0;
    uint8_t status = MICROTVM_RPC_UNKNOWN_CALL;
    if (call < sizeof calls / sizeof calls[0] && calls[call] != NULL) {
        status = calls[call](request + 1, length - 1u, data, MICROTVM_RPC_MAX_PAYLOAD - 2u, &data_length);
    }
    if (status != MICROTVM_RPC_OK && call != MICROTVM_RPC_RUN) {
        data_length = 0;
    }
    send_response(sequence, call, status, data_length);
    response_valid = 1;
    response_sequence = sequence;
    response_call = call;
}

#ifdef MICROTVM_TRACE
/* Profiling builds (-DMICROTVM_TRACE): the generated <name>_run calls this after every operator; the time since
 * the previous call (or the run's start) is that operator's. The hook's own cost is left out of the next one. */
static int trace_last_operator;

void microtvm_trace(int operator_index, int tensor_id, const void *data, size_t bytes);
void microtvm_trace(int operator_index, int tensor_id, const void *data, size_t bytes)
{
    uint64_t now = microtvm_timer_now();
    (void)tensor_id;
    (void)data;
    (void)bytes;
    const microtvm_rpc_image *image = &microtvm_rpc_image_info;
    if (traced_operators == 0u || operator_index != trace_last_operator) {
        if (traced_operators < image->operator_capacity && image->operator_ticks != NULL) {
            image->operator_ticks[traced_operators] = (uint32_t)(now - trace_last);
        }
        traced_operators++;
        trace_last_operator = operator_index;
    }
    trace_last = microtvm_timer_now();
}
#endif

void microtvm_rpc_serve(void)
{
    paint_stack();
    microtvm_board_rpc_init();
    microtvm_rpc_parser_init(&parser);
    for (;;) {
        uint8_t bytes[64];
        size_t count = microtvm_board_rpc_read(bytes, sizeof bytes);
        for (size_t i = 0; i < count; i++) {
            int complete = microtvm_rpc_parser_push(&parser, bytes[i]);
            while (complete) {
                microtvm_rpc_handle_frame(&parser);
                microtvm_rpc_parser_consume(&parser);
                complete = microtvm_rpc_parser_poll(&parser);
            }
            if (parser.bad_crc_pending) {
                /* Tell the host at once instead of letting it wait for its timeout. */
                parser.bad_crc_pending = 0;
                response_valid = 0;
                send_response(parser.bad_crc_sequence, MICROTVM_RPC_FRAME_ERROR, MICROTVM_RPC_BAD_CRC, 0);
            }
        }
    }
}
