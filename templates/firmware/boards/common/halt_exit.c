/* Program exit on a real board with no debugger attached (where semihosting would fault): report the
 * status on the console, then stop the core. */
#include "microtvm/platform.h"

void microtvm_board_exit(int status)
{
    static const char prefix[] = "*** MicroTvm exit: ";
    microtvm_board_console_write(prefix, sizeof prefix - 1);
    if (status < 0) {
        microtvm_board_console_write("-", 1);
        status = -status;
    }
    microtvm_console_put_uint((uint64_t)status);
    microtvm_board_console_write("\n", 1);
    __asm volatile("cpsid i" ::: "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}
