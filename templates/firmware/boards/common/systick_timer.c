/* Free-running 64-bit tick counter from the Cortex-M SysTick (present on every Cortex-M):
 * the 24-bit down-counter runs from the processor clock and its wrap interrupt extends it. */
#include <stdint.h>

#include "microtvm/platform.h"

#ifndef MICROTVM_CPU_CLOCK_HZ
#error "board description must define MICROTVM_CPU_CLOCK_HZ"
#endif

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_CSR_ENABLE 0x1u
#define SYST_CSR_TICKINT 0x2u
#define SYST_CSR_CLKSOURCE_CPU 0x4u
#define SYST_CSR_COUNTFLAG 0x10000u
#define SYSTICK_PERIOD 0x1000000u

static volatile uint64_t wraps;

void microtvm_systick_handler(void);
void microtvm_systick_handler(void)
{
    wraps++;
}

void microtvm_board_timer_init(void);
void microtvm_board_timer_init(void)
{
    SYST_RVR = SYSTICK_PERIOD - 1u;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE_CPU;
    /* The counter reads 0 until its first reload; start counting from there. */
    while (SYST_CVR == 0u) {
    }
    wraps = 0u;
}

uint64_t microtvm_board_timer_now(void)
{
    uint64_t high;
    uint32_t low;
    /* Re-read if the counter wrapped between reading the wrap count and the counter. */
    do {
        high = wraps;
        low = SYST_CVR;
    } while (high != wraps);
    return high * SYSTICK_PERIOD + (SYSTICK_PERIOD - 1u - low);
}

uint32_t microtvm_board_timer_frequency_hz(void)
{
    return MICROTVM_CPU_CLOCK_HZ;
}
