/*
 * MicroTvm RPC: a host drives the models of a firmware image over a byte transport (docs/rpc.md).
 * C99, no malloc, no OS: every buffer has a compile-time size.
 *
 * A firmware links crt/rpc/rpc_frame.c, crt/rpc/rpc_server.c, a model table (generated: rpc_models.c) and its
 * board's transport (the two hooks below), then calls microtvm_rpc_serve() — the SDK does all of that with
 * <MicroTvmRpcServer>true</MicroTvmRpcServer>.
 */
#ifndef MICROTVM_RPC_H
#define MICROTVM_RPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MICROTVM_RPC_PROTOCOL_VERSION 1u

/* Largest payload of one frame (requests and responses); the host learns it from the handshake. */
#ifndef MICROTVM_RPC_MAX_PAYLOAD
#define MICROTVM_RPC_MAX_PAYLOAD 1024u
#endif

/* Frame: sync (0xA5 0x4D), payload length (u16), sequence (u16), header check (CRC-8 of the 6 bytes before),
 * payload, CRC-32 of everything before it. All integers little-endian. */
#define MICROTVM_RPC_SYNC0 0xA5u
#define MICROTVM_RPC_SYNC1 0x4Du
#define MICROTVM_RPC_HEADER_SIZE 7u
#define MICROTVM_RPC_TRAILER_SIZE 4u
#define MICROTVM_RPC_FRAME_CAPACITY (MICROTVM_RPC_HEADER_SIZE + MICROTVM_RPC_MAX_PAYLOAD + MICROTVM_RPC_TRAILER_SIZE)

/* Calls (first payload byte of a request; a response repeats it, then a status byte). */
enum microtvm_rpc_call {
    MICROTVM_RPC_HELLO = 0x00,
    MICROTVM_RPC_ECHO = 0x01,
    MICROTVM_RPC_DESCRIBE_MODEL = 0x02,
    MICROTVM_RPC_WRITE_INPUT = 0x03,
    MICROTVM_RPC_RUN = 0x04,
    MICROTVM_RPC_READ_OUTPUT = 0x05,
    MICROTVM_RPC_OPERATOR_TIMES = 0x06,
    MICROTVM_RPC_MEMORY = 0x07,
    MICROTVM_RPC_TIME_MODEL = 0x08,  /* tuning: run a model N times, answer min/max/total time */
    MICROTVM_RPC_FRAME_ERROR = 0xFF /* response only: the request frame was damaged */
};

enum microtvm_rpc_status {
    MICROTVM_RPC_OK = 0,
    MICROTVM_RPC_UNKNOWN_CALL = 1,
    MICROTVM_RPC_BAD_ARGUMENT = 2,   /* index or byte range outside the model's tensors, short request */
    MICROTVM_RPC_BAD_CRC = 3,        /* with MICROTVM_RPC_FRAME_ERROR */
    MICROTVM_RPC_RUN_FAILED = 4,     /* <model>_run returned non-zero */
    MICROTVM_RPC_NOT_PROFILED = 5,   /* no per-operator times: the image was built without MICROTVM_TRACE */
    MICROTVM_RPC_NO_CYCLE_COUNTER = 6 /* TIME_MODEL asked for DWT cycles on a build without MICROTVM_BOARD_HAS_DWT */
};

/* ---- framing (rpc_frame.c; also compiled for the host by the fuzz test) ---- */

uint32_t microtvm_rpc_crc32(uint32_t crc, const uint8_t *data, size_t length); /* start with 0 */
uint8_t microtvm_rpc_crc8(const uint8_t *data, size_t length);

typedef struct {
    uint8_t buffer[MICROTVM_RPC_FRAME_CAPACITY];
    size_t fill;           /* bytes held in buffer */
    uint32_t dropped;      /* bytes discarded while resynchronising (statistics) */
    uint32_t bad_frames;   /* frames with a valid header whose CRC-32 failed */
    int bad_crc_pending;   /* set when a frame with a valid header failed its CRC-32: answer with an error */
    uint16_t bad_crc_sequence;
} microtvm_rpc_parser;

void microtvm_rpc_parser_init(microtvm_rpc_parser *parser);

/* Feeds one byte. Returns 1 when buffer[0 .. HEADER + length + TRAILER) is now a complete, checked frame
 * (read it with microtvm_rpc_frame_length/sequence/payload, then call microtvm_rpc_parser_consume), else 0.
 * Garbage, oversized lengths, bad header checks and bad CRCs are dropped by rescanning the held bytes for the
 * next sync, so a frame that follows garbage or a truncated frame is still found. */
int microtvm_rpc_parser_push(microtvm_rpc_parser *parser, uint8_t byte);
/* After consume: 1 when the bytes still held already make another complete frame. */
int microtvm_rpc_parser_poll(microtvm_rpc_parser *parser);
void microtvm_rpc_parser_consume(microtvm_rpc_parser *parser);

size_t microtvm_rpc_frame_length(const uint8_t *frame);   /* payload bytes */
uint16_t microtvm_rpc_frame_sequence(const uint8_t *frame);

/* Writes a frame around payload[0 .. length) (length <= MICROTVM_RPC_MAX_PAYLOAD) into out (capacity
 * MICROTVM_RPC_FRAME_CAPACITY); payload may already sit at out + MICROTVM_RPC_HEADER_SIZE. Returns the frame size. */
size_t microtvm_rpc_frame_encode(uint8_t *out, uint16_t sequence, const uint8_t *payload, size_t length);

/* ---- the model table (generated per firmware: rpc_models.c) ---- */

typedef struct {
    uint8_t type;           /* MICROTVM_TYPE_* value of the generated header */
    uint8_t rank;
    const int32_t *shape;
    float scale;            /* 0 when not quantized */
    int32_t zero_point;
    uint32_t bytes;
} microtvm_rpc_tensor;

typedef struct {
    const char *name;
    uint32_t workspace_bytes;
    uint16_t operator_count;
    uint8_t input_count;
    uint8_t output_count;
    const microtvm_rpc_tensor *inputs;
    const microtvm_rpc_tensor *outputs;
    uint8_t *(*input)(int index);          /* where the host writes input <index> */
    const uint8_t *(*output)(int index);   /* where the host reads output <index> after a run */
    void (*prepare)(void);                 /* before each run, untimed: resets the state, copies staged inputs into the workspace; or NULL */
    int (*run)(void);                      /* <name>_run on the model's buffers */
} microtvm_rpc_model;

typedef struct {
    const char *board;
    const char *cpu;
    const char *build_id;
    uint32_t cpu_clock_hz;
    uint16_t model_count;
    const microtvm_rpc_model *models;
    uint32_t *operator_ticks;              /* per operator of the last run (profiling builds), else NULL */
    uint16_t operator_capacity;
} microtvm_rpc_image;

extern const microtvm_rpc_image microtvm_rpc_image_info;

/* ---- the server ---- */

/* Board hooks: the byte transport. read blocks until at least one byte arrived and returns how many it stored
 * (1 .. capacity); write sends every byte. */
size_t microtvm_board_rpc_read(uint8_t *data, size_t capacity);
void microtvm_board_rpc_write(const uint8_t *data, size_t length);
void microtvm_board_rpc_init(void);

/* A call: request payload (after the call byte) in, response data (after call and status bytes) out.
 * Returns a status; *response_length is the number of bytes written to response (at most capacity). */
typedef uint8_t (*microtvm_rpc_handler)(const uint8_t *request, size_t request_length,
                                        uint8_t *response, size_t capacity, size_t *response_length);

/* Serves forever: paints the unused stack (for the high-water mark), initialises the transport, answers frames. */
void microtvm_rpc_serve(void) __attribute__((noreturn));

/* Handles one complete frame held by the parser and writes the response (used by microtvm_rpc_serve, and by
 * firmware that polls). */
void microtvm_rpc_handle_frame(microtvm_rpc_parser *parser);

#ifdef __cplusplus
}
#endif

#endif /* MICROTVM_RPC_H */
