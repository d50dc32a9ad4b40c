/* Program exit through ARM semihosting (SYS_EXIT_EXTENDED): QEMU started with
 * -semihosting-config enable=on exits with the status as its own exit code. */
#include <stdint.h>

#include "microtvm/platform.h"

#define SEMIHOSTING_SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

void microtvm_board_exit(int status)
{
    volatile uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status };
    register uint32_t operation __asm("r0") = SEMIHOSTING_SYS_EXIT_EXTENDED;
    register volatile uint32_t *argument __asm("r1") = block;
    __asm volatile("bkpt 0xab" : "+r"(operation) : "r"(argument) : "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}
