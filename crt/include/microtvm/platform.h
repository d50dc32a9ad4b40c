/*
 * MicroTvm C runtime: the platform hooks every firmware can rely on.
 * C99, no malloc, no OS. Each board implements the microtvm_board_* functions
 * (templates/firmware/boards/<board>/); this runtime builds the public API on top.
 */
#ifndef MICROTVM_PLATFORM_H
#define MICROTVM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Console output (UART or semihosting, whatever the board provides). */
void microtvm_console_write(const char *data, size_t length);
void microtvm_console_puts(const char *text);               /* text, then a newline */
void microtvm_console_put_uint(uint64_t value);             /* decimal, no allocation */
void microtvm_console_put_hex(uint32_t value);              /* 0x-prefixed, 8 digits */

/* Ends the program. Under `dotnet build -t:Run` the status becomes QEMU's exit code;
 * a non-zero status fails the build (MTVM4001). Returning from main() calls this. */
void microtvm_exit(int status) __attribute__((noreturn));

/* Prints "*** MicroTvm abort: <reason>" and exits with status 134 (like SIGABRT). */
void microtvm_abort(const char *reason) __attribute__((noreturn));

/* Free-running timer. start() records the current tick count, stop() returns the ticks since.
 * Under QEMU with -icount shift=0 one guest instruction takes exactly 1 ns of virtual time, so
 * microtvm_timer_ticks_to_ns(ticks) is the number of instructions executed: deterministic. */
void microtvm_timer_start(void);
uint64_t microtvm_timer_stop(void);
uint64_t microtvm_timer_now(void);
uint32_t microtvm_timer_frequency_hz(void);
uint64_t microtvm_timer_ticks_to_ns(uint64_t ticks);

/* Board hooks (implemented by the board support package). */
void microtvm_board_init(void);
void microtvm_board_console_write(const char *data, size_t length);
void microtvm_board_exit(int status) __attribute__((noreturn));
uint64_t microtvm_board_timer_now(void);
uint32_t microtvm_board_timer_frequency_hz(void);

#ifdef __cplusplus
}
#endif

#endif /* MICROTVM_PLATFORM_H */
