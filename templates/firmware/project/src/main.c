#include <stdio.h>

#include "microtvm/platform.h"

int main(void)
{
    printf("Hello from MicroTvmFirmware on mps2-an500!\n");

    microtvm_timer_start();
    /* Your code here. */
    uint64_t ticks = microtvm_timer_stop();
    printf("That took %lu ns.\n", (unsigned long)microtvm_timer_ticks_to_ns(ticks));
    return 0;
}
