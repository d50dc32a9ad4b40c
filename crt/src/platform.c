/* MicroTvm C runtime: console helpers, exit/abort, timer, and the few newlib system calls
 * that make printf() and exit() reach the board's console and exit hook. */
#include "microtvm/platform.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

void microtvm_console_write(const char *data, size_t length)
{
    microtvm_board_console_write(data, length);
}

void microtvm_console_puts(const char *text)
{
    microtvm_board_console_write(text, strlen(text));
    microtvm_board_console_write("\n", 1);
}

void microtvm_console_put_uint(uint64_t value)
{
    char digits[20];
    size_t count = 0;
    do {
        digits[sizeof digits - 1 - count] = (char)('0' + (int)(value % 10u));
        value /= 10u;
        count++;
    } while (value != 0u);
    microtvm_board_console_write(&digits[sizeof digits - count], count);
}

void microtvm_console_put_hex(uint32_t value)
{
    static const char hex[] = "0123456789abcdef";
    char text[10] = { '0', 'x' };
    for (int i = 0; i < 8; i++) {
        text[2 + i] = hex[(value >> (28 - 4 * i)) & 0xFu];
    }
    microtvm_board_console_write(text, sizeof text);
}

void microtvm_exit(int status)
{
    microtvm_board_exit(status);
}

void microtvm_abort(const char *reason)
{
    static const char prefix[] = "*** MicroTvm abort: ";
    microtvm_board_console_write(prefix, sizeof prefix - 1);
    microtvm_console_puts(reason != NULL ? reason : "(no reason)");
    microtvm_board_exit(134);
}

static uint64_t timer_started_at;

void microtvm_timer_start(void)
{
    timer_started_at = microtvm_board_timer_now();
}

uint64_t microtvm_timer_stop(void)
{
    return microtvm_board_timer_now() - timer_started_at;
}

uint64_t microtvm_timer_now(void)
{
    return microtvm_board_timer_now();
}

uint32_t microtvm_timer_frequency_hz(void)
{
    return microtvm_board_timer_frequency_hz();
}

uint64_t microtvm_timer_ticks_to_ns(uint64_t ticks)
{
    uint32_t hz = microtvm_board_timer_frequency_hz();
    /* Split to avoid overflow for long runs: whole seconds, then the remainder. */
    return (ticks / hz) * 1000000000ull + ((ticks % hz) * 1000000000ull) / hz;
}

/* ---- newlib system calls: printf/puts/exit land on the board console and exit hook ---- */

int _write(int fd, const char *data, int length);
int _write(int fd, const char *data, int length)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    microtvm_board_console_write(data, (size_t)length);
    return length;
}

void _exit(int status);
void _exit(int status)
{
    microtvm_board_exit(status);
}

/* newlib's stdio allocates its buffers once; give it the space the linker script leaves
 * between the end of .bss and the stack (symbols __heap_start/__heap_end). */
extern char __heap_start[];
extern char __heap_end[];
static char *heap_top = __heap_start;

void *_sbrk(ptrdiff_t increment);
void *_sbrk(ptrdiff_t increment)
{
    if (increment < 0 || (size_t)(__heap_end - heap_top) < (size_t)increment) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *previous = heap_top;
    heap_top += increment;
    return previous;
}
