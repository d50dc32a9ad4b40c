/* Cortex-M (ARMv7-M / ARMv8-M mainline) startup: vector table, reset, fault reporting.
 * Shared by every board whose linker script includes cortexm_sections.ld. */
#include <stdint.h>
#include <string.h>

#include "microtvm/platform.h"

extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void microtvm_reset_handler(void);
void microtvm_default_handler(void);
void microtvm_fault_entry(void);
void microtvm_systick_handler(void) __attribute__((weak, alias("microtvm_default_handler")));

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)

typedef void (*vector_t)(void);

/* The first 16 entries are the architectural exceptions; boards need no device IRQ yet. */
__attribute__((section(".vectors"), used)) static const vector_t vector_table[16] = {
    (vector_t)(uintptr_t)__stack_top,
    microtvm_reset_handler,
    microtvm_fault_entry, /* NMI */
    microtvm_fault_entry, /* HardFault */
    microtvm_fault_entry, /* MemManage */
    microtvm_fault_entry, /* BusFault */
    microtvm_fault_entry, /* UsageFault */
    microtvm_fault_entry, /* SecureFault (ARMv8-M) */
    0, 0, 0,
    microtvm_default_handler, /* SVCall */
    microtvm_default_handler, /* DebugMonitor */
    0,
    microtvm_default_handler, /* PendSV */
    microtvm_systick_handler,
};

void microtvm_reset_handler(void)
{
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* Floating point (and MVE on ARMv8.1-M) must be on before any FP instruction runs. Cores without an FPU
     * (Cortex-M3, M0+) have no CPACR: the register is reserved there. */
    SCB_CPACR |= (0xFu << 20);
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif

    size_t data_size = (size_t)((char *)__data_end - (char *)__data_start);
    if (data_size != 0u && (uintptr_t)__data_load != (uintptr_t)__data_start) {
        memcpy(__data_start, __data_load, data_size);
    }
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));

    microtvm_board_init();
    microtvm_exit(main());
}

void microtvm_default_handler(void)
{
    microtvm_abort("unexpected interrupt");
}

/* Called with a pointer to the exception frame the core stacked (r0-r3, r12, lr, pc, xpsr). */
void microtvm_fault_report(const uint32_t *frame);
void microtvm_fault_report(const uint32_t *frame)
{
    static const char prefix[] = "*** MicroTvm fault: exception ";
    microtvm_console_write(prefix, sizeof prefix - 1);
    microtvm_console_put_uint(SCB_ICSR & 0x1FFu);
    microtvm_console_write(" at pc=", 7);
    microtvm_console_put_hex(frame[6]);
    microtvm_console_write(" lr=", 4);
    microtvm_console_put_hex(frame[5]);
    microtvm_console_write(" cfsr=", 6);
    microtvm_console_put_hex(SCB_CFSR);
    microtvm_console_write(" hfsr=", 6);
    microtvm_console_put_hex(SCB_HFSR);
    microtvm_console_write("\n", 1);
    microtvm_board_exit(135);
}

__attribute__((naked)) void microtvm_fault_entry(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "b microtvm_fault_report\n\t");
}
