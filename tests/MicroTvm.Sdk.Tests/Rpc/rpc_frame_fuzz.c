/* Host fuzz driver for crt/rpc/rpc_frame.c (built with -fsanitize=address,undefined by RpcFrameFuzzTests):
 * streams of intact frames mixed with garbage and damaged frames (bit flips, truncation, false lengths with a
 * valid header check, oversized lengths, stray sync bytes). Every accepted frame must be the next intact frame
 * (no damaged frame accepted, none skipped), and every intact frame must be found (resynchronisation).
 * Usage: rpc_frame_fuzz <frames> <seed>. Prints "intact N accepted N damaged N dropped N"; exit 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microtvm/rpc.h"

static unsigned long long state;
static unsigned next(void)
{
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(state >> 33);
}

/* An independent check of the shared CRC: the bitwise CRC-32 of "123456789" is 0xCBF43926. */
static int crc_self_test(void)
{
    return microtvm_rpc_crc32(0, (const uint8_t *)"123456789", 9) == 0xCBF43926u;
}

#define STREAM_CAPACITY (64u * MICROTVM_RPC_FRAME_CAPACITY)
static uint8_t stream[STREAM_CAPACITY];
static size_t stream_length;
static uint8_t expected[64][MICROTVM_RPC_FRAME_CAPACITY];
static size_t expected_length[64];
static size_t expected_count, expected_next;
static unsigned long intact, accepted, damaged;
static microtvm_rpc_parser parser;

static void append(const uint8_t *data, size_t length)
{
    if (stream_length + length <= STREAM_CAPACITY) {
        memcpy(stream + stream_length, data, length);
        stream_length += length;
    }
}

static size_t random_frame(uint8_t *frame)
{
    uint8_t payload[MICROTVM_RPC_MAX_PAYLOAD];
    size_t length = (next() % 4u == 0u) ? next() % (MICROTVM_RPC_MAX_PAYLOAD + 1u) : next() % 24u;
    for (size_t i = 0; i < length; i++) {
        /* Payloads full of sync bytes are the hard case for resynchronisation. */
        payload[i] = (next() % 3u == 0u) ? (next() % 2u ? MICROTVM_RPC_SYNC0 : MICROTVM_RPC_SYNC1) : (uint8_t)next();
    }
    return microtvm_rpc_frame_encode(frame, (uint16_t)next(), payload, length);
}

static int feed(void)
{
    for (size_t i = 0; i < stream_length; i++) {
        int complete = microtvm_rpc_parser_push(&parser, stream[i]);
        while (complete) {
            size_t total = MICROTVM_RPC_HEADER_SIZE + microtvm_rpc_frame_length(parser.buffer) + MICROTVM_RPC_TRAILER_SIZE;
            if (expected_next >= expected_count || total != expected_length[expected_next]
                || memcmp(parser.buffer, expected[expected_next], total) != 0) {
                printf("FAIL: accepted a frame that is not the next intact one (intact %lu, accepted %lu; frame %zu of %zu, %zu bytes, expected %zu bytes)\n", intact, accepted, expected_next, expected_count, total, expected_next < expected_count ? expected_length[expected_next] : 0u);
                return 0;
            }
            expected_next++;
            accepted++;
            microtvm_rpc_parser_consume(&parser);
            complete = microtvm_rpc_parser_poll(&parser);
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "encode") == 0) { /* one frame, for the host's encoder to compare with */
        static const char text[] = "MicroTvm \xA5\x4D frame";
        uint8_t frame[MICROTVM_RPC_FRAME_CAPACITY];
        size_t n = microtvm_rpc_frame_encode(frame, 0x1234u, (const uint8_t *)text, sizeof text - 1u);
        for (size_t i = 0; i < n; i++) {
            printf("%02X", frame[i]);
        }
        printf("\n");
        return 0;
    }
    unsigned long frames = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000ul;
    state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1ull;
    if (!crc_self_test()) {
        printf("FAIL: CRC-32 of \"123456789\" is not 0xCBF43926\n");
        return 1;
    }
    microtvm_rpc_parser_init(&parser);
    while (intact + damaged < frames) {
        stream_length = 0;
        expected_count = expected_next = 0;
        int pieces = 1 + (int)(next() % 8u);
        for (int p = 0; p < pieces; p++) {
            uint8_t frame[MICROTVM_RPC_FRAME_CAPACITY];
            size_t n = random_frame(frame);
            unsigned kind = next() % 8u;
            if (next() % 2u) { /* garbage before it, sometimes with sync bytes and whole false headers */
                uint8_t garbage[48];
                size_t g = next() % sizeof garbage;
                for (size_t i = 0; i < g; i++) {
                    garbage[i] = next() % 4u == 0u ? MICROTVM_RPC_SYNC0 : (uint8_t)next();
                }
                if (g >= 7u && next() % 2u) {
                    garbage[g - 7u] = MICROTVM_RPC_SYNC0;
                    garbage[g - 6u] = MICROTVM_RPC_SYNC1;
                    garbage[g - 1u] = microtvm_rpc_crc8(garbage + g - 7u, 6u); /* a header that passes its check */
                }
                append(garbage, g);
            }
            if (kind < 3u && expected_count < 64u) {
                memcpy(expected[expected_count], frame, n);
                expected_length[expected_count++] = n;
                intact++;
                append(frame, n);
                continue;
            }
            damaged++;
            switch (kind) {
            case 3: /* one bit flipped anywhere */
                frame[next() % n] ^= (uint8_t)(1u << (next() % 8u));
                append(frame, n);
                break;
            case 4: { /* truncated, and the next byte is not the missing one (else the next piece could complete it) */
                size_t keep = next() % n;
                uint8_t wrong = (uint8_t)(frame[keep] ^ (1u + next() % 255u));
                append(frame, keep);
                append(&wrong, 1u);
                break;
            }
            case 5: { /* a false (longer or shorter) length with a valid header check */
                size_t length = microtvm_rpc_frame_length(frame);
                size_t other = next() % (MICROTVM_RPC_MAX_PAYLOAD + 1u);
                if (other == length) other = (other + 1u) % (MICROTVM_RPC_MAX_PAYLOAD + 1u);
                frame[2] = (uint8_t)other;
                frame[3] = (uint8_t)(other >> 8);
                frame[6] = microtvm_rpc_crc8(frame, 6u);
                append(frame, n);
                break;
            }
            case 6: { /* an oversized length with a valid header check */
                size_t other = MICROTVM_RPC_MAX_PAYLOAD + 1u + next() % (65536u - MICROTVM_RPC_MAX_PAYLOAD - 1u);
                frame[2] = (uint8_t)other;
                frame[3] = (uint8_t)(other >> 8);
                frame[6] = microtvm_rpc_crc8(frame, 6u);
                append(frame, n);
                break;
            }
            default: /* a payload byte replaced, CRC left as it was */
                if (n > MICROTVM_RPC_HEADER_SIZE + MICROTVM_RPC_TRAILER_SIZE) {
                    frame[MICROTVM_RPC_HEADER_SIZE + next() % (n - MICROTVM_RPC_HEADER_SIZE - MICROTVM_RPC_TRAILER_SIZE)] ^= (uint8_t)(1u + next() % 255u);
                } else {
                    frame[n - 1u] ^= 0x5Au;
                }
                append(frame, n);
                break;
            }
        }
        /* What a host's retries would send next: enough bytes to complete any pending false header. */
        uint8_t zeros[MICROTVM_RPC_FRAME_CAPACITY];
        memset(zeros, 0, sizeof zeros);
        append(zeros, sizeof zeros);
        if (!feed()) {
            return 1;
        }
        if (expected_next != expected_count) {
            printf("FAIL: %zu of %zu intact frames were not found (intact %lu)\n", expected_count - expected_next, expected_count, intact);
            return 1;
        }
        if (parser.fill > MICROTVM_RPC_FRAME_CAPACITY) {
            printf("FAIL: parser holds %zu bytes\n", parser.fill);
            return 1;
        }
    }
    printf("intact %lu accepted %lu damaged %lu dropped %lu bad %lu\n", intact, accepted, damaged,
           (unsigned long)parser.dropped, (unsigned long)parser.bad_frames);
    return intact == accepted ? 0 : 1;
}
