/* The smallest MicroTvm firmware: print a line, time a loop, exit 0. */
#include <stdio.h>

#include "microtvm/platform.h"

int main(void)
{
    printf("Hello from MicroTvm on a Cortex-M!\n");

    microtvm_timer_start();
    volatile uint32_t sum = 0;
    for (uint32_t i = 0; i < 100000u; i++) {
        sum += i;
    }
    uint64_t ticks = microtvm_timer_stop();
    /* Under QEMU -icount shift=0 a nanosecond of emulated time is one instruction. */
    printf("Summing 100000 numbers took %lu timer ticks (%lu ns).\n",
           (unsigned long)ticks, (unsigned long)microtvm_timer_ticks_to_ns(ticks));
    return 0;
}
