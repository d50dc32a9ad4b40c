/* MicroTvm RPC framing: CRCs, the resynchronising frame parser, the frame encoder (docs/rpc.md).
 * No board dependency: the fuzz test compiles this file for the host with ASan/UBSan. */
#include <string.h>

#include "microtvm/rpc.h"

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) four bits at a time: a 64-byte table instead of 1 KB. */
uint32_t microtvm_rpc_crc32(uint32_t crc, const uint8_t *data, size_t length)
{
    static const uint32_t nibble[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
        0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
    };
    crc = ~crc;
    for (size_t i = 0; i < length; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ nibble[crc & 0xFu];
        crc = (crc >> 4) ^ nibble[crc & 0xFu];
    }
    return ~crc;
}

/* CRC-8, polynomial x^8 + x^2 + x + 1 (0x07), initial 0: guards the header so a false sync with a plausible
 * length rarely makes the parser wait for bytes that are not a frame. */
uint8_t microtvm_rpc_crc8(const uint8_t *data, size_t length)
{
    uint8_t crc = 0;
    for (size_t i = 0; i < length; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++) {
            crc = (uint8_t)((crc & 0x80u) != 0u ? ((unsigned)crc << 1) ^ 0x07u : (unsigned)crc << 1);
        }
    }
    return crc;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

size_t microtvm_rpc_frame_length(const uint8_t *frame)
{
    return get_u16(frame + 2);
}

uint16_t microtvm_rpc_frame_sequence(const uint8_t *frame)
{
    return get_u16(frame + 4);
}

void microtvm_rpc_parser_init(microtvm_rpc_parser *parser)
{
    memset(parser, 0, sizeof *parser);
}

/* Drops the first byte and everything up to the next possible sync byte. */
static void resynchronise(microtvm_rpc_parser *parser)
{
    size_t next = 1;
    while (next < parser->fill && parser->buffer[next] != MICROTVM_RPC_SYNC0) {
        next++;
    }
    memmove(parser->buffer, parser->buffer + next, parser->fill - next);
    parser->fill -= next;
    parser->dropped += (uint32_t)next;
}

/* Looks for a complete frame at the start of the held bytes; 1 when there is one. */
static int scan(microtvm_rpc_parser *parser)
{
    uint8_t *b = parser->buffer;
    for (;;) {
        if (parser->fill == 0u) {
            return 0;
        }
        if (b[0] != MICROTVM_RPC_SYNC0 || (parser->fill >= 2u && b[1] != MICROTVM_RPC_SYNC1)) {
            resynchronise(parser);
            continue;
        }
        if (parser->fill < MICROTVM_RPC_HEADER_SIZE) {
            return 0;
        }
        /* Never trust a length: only one that passed the header check and fits the buffer. */
        size_t length = get_u16(b + 2);
        if (microtvm_rpc_crc8(b, MICROTVM_RPC_HEADER_SIZE - 1u) != b[MICROTVM_RPC_HEADER_SIZE - 1u]
            || length > MICROTVM_RPC_MAX_PAYLOAD) {
            resynchronise(parser);
            continue;
        }
        size_t total = MICROTVM_RPC_HEADER_SIZE + length + MICROTVM_RPC_TRAILER_SIZE;
        if (parser->fill < total) {
            return 0;
        }
        if (microtvm_rpc_crc32(0, b, total - MICROTVM_RPC_TRAILER_SIZE) != get_u32(b + total - MICROTVM_RPC_TRAILER_SIZE)) {
            parser->bad_frames++;
            parser->bad_crc_pending = 1;
            parser->bad_crc_sequence = get_u16(b + 4);
            resynchronise(parser);
            continue;
        }
        return 1;
    }
}

int microtvm_rpc_parser_push(microtvm_rpc_parser *parser, uint8_t byte)
{
    if (parser->fill == sizeof parser->buffer) {
        /* Cannot happen (a length is checked before bytes are awaited), but never write past the buffer. */
        resynchronise(parser);
    }
    parser->buffer[parser->fill++] = byte;
    return scan(parser);
}

int microtvm_rpc_parser_poll(microtvm_rpc_parser *parser)
{
    return scan(parser);
}

void microtvm_rpc_parser_consume(microtvm_rpc_parser *parser)
{
    size_t total = MICROTVM_RPC_HEADER_SIZE + microtvm_rpc_frame_length(parser->buffer) + MICROTVM_RPC_TRAILER_SIZE;
    if (total > parser->fill) {
        total = parser->fill;
    }
    memmove(parser->buffer, parser->buffer + total, parser->fill - total);
    parser->fill -= total;
}

size_t microtvm_rpc_frame_encode(uint8_t *out, uint16_t sequence, const uint8_t *payload, size_t length)
{
    if (length > MICROTVM_RPC_MAX_PAYLOAD) {
        length = MICROTVM_RPC_MAX_PAYLOAD;
    }
    if (payload != out + MICROTVM_RPC_HEADER_SIZE) {
        memmove(out + MICROTVM_RPC_HEADER_SIZE, payload, length);
    }
    out[0] = MICROTVM_RPC_SYNC0;
    out[1] = MICROTVM_RPC_SYNC1;
    out[2] = (uint8_t)length;
    out[3] = (uint8_t)(length >> 8);
    out[4] = (uint8_t)sequence;
    out[5] = (uint8_t)(sequence >> 8);
    out[6] = microtvm_rpc_crc8(out, MICROTVM_RPC_HEADER_SIZE - 1u);
    size_t body = MICROTVM_RPC_HEADER_SIZE + length;
    uint32_t crc = microtvm_rpc_crc32(0, out, body);
    out[body] = (uint8_t)crc;
    out[body + 1] = (uint8_t)(crc >> 8);
    out[body + 2] = (uint8_t)(crc >> 16);
    out[body + 3] = (uint8_t)(crc >> 24);
    return body + MICROTVM_RPC_TRAILER_SIZE;
}
