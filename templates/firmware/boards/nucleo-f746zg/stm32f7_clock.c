/* NUCLEO-F746ZG bring-up: the STM32F746 at its rated 216 MHz, with the Cortex-M7's instruction and data caches on,
 * then console and timer. HSI (16 MHz) / M 8 * N 216 / P 2 = 216 MHz (VCO 432 MHz; Q 9 gives 48 MHz), over-drive on
 * (needed above 180 MHz), flash 7 wait states with the ART accelerator and prefetch (2.7-3.6 V), APB1 /4 = 54 MHz
 * (USART3), APB2 /2 = 108 MHz. Register map: STM32F7 reference manual RM0385; caches: Armv7-M ARM, Cortex-M7 TRM.
 * Written from the documents, compiled and linked here; not run (no board on the test machine). */
#include <stdint.h>

#include "microtvm/platform.h"

#define RCC_BASE 0x40023800u
#define RCC_CR (*(volatile uint32_t *)(RCC_BASE + 0x00u))
#define RCC_PLLCFGR (*(volatile uint32_t *)(RCC_BASE + 0x04u))
#define RCC_CFGR (*(volatile uint32_t *)(RCC_BASE + 0x08u))
#define RCC_APB1ENR (*(volatile uint32_t *)(RCC_BASE + 0x40u))
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR_PWREN (1u << 28)

#define PWR_CR1 (*(volatile uint32_t *)0x40007000u)
#define PWR_CSR1 (*(volatile uint32_t *)0x40007004u)
#define PWR_CR1_ODEN (1u << 16)
#define PWR_CR1_ODSWEN (1u << 17)
#define PWR_CSR1_ODRDY (1u << 16)
#define PWR_CSR1_ODSWRDY (1u << 17)

#define FLASH_ACR (*(volatile uint32_t *)0x40023C00u)
#define FLASH_ACR_LATENCY_7WS 7u
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ARTEN (1u << 9)

#define SCB_CCR (*(volatile uint32_t *)0xE000ED14u)
#define SCB_CCSIDR (*(volatile uint32_t *)0xE000ED80u)
#define SCB_CSSELR (*(volatile uint32_t *)0xE000ED84u)
#define SCB_ICIALLU (*(volatile uint32_t *)0xE000EF50u)
#define SCB_DCISW (*(volatile uint32_t *)0xE000EF60u)
#define SCB_CCR_DC (1u << 16)
#define SCB_CCR_IC (1u << 17)

#if MICROTVM_CPU_CLOCK_HZ != 216000000u || MICROTVM_UART_CLOCK_HZ != 54000000u
#error "board.props and this clock set-up disagree: 216 MHz core, 54 MHz APB1"
#endif

void microtvm_board_console_init(void);
void microtvm_board_timer_init(void);

static void barrier(void)
{
    __asm volatile("dsb\n\tisb" ::: "memory");
}

static void clock_216mhz(void)
{
    while ((RCC_CR & RCC_CR_HSIRDY) == 0u) {
    }
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;

    /* PLLM 8, PLLN 216, PLLP /2 (00), PLLSRC HSI (0), PLLQ 9. */
    RCC_PLLCFGR = 8u | (216u << 6) | (0u << 16) | (9u << 24);
    RCC_CR |= RCC_CR_PLLON;

    /* Over-drive (the voltage scale is 1 from reset): enable, then switch, each acknowledged. */
    PWR_CR1 |= PWR_CR1_ODEN;
    while ((PWR_CSR1 & PWR_CSR1_ODRDY) == 0u) {
    }
    PWR_CR1 |= PWR_CR1_ODSWEN;
    while ((PWR_CSR1 & PWR_CSR1_ODSWRDY) == 0u) {
    }
    while ((RCC_CR & RCC_CR_PLLRDY) == 0u) {
    }

    /* Slow flash and buses down before the core speeds up. */
    FLASH_ACR = FLASH_ACR_LATENCY_7WS | FLASH_ACR_PRFTEN | FLASH_ACR_ARTEN;
    while ((FLASH_ACR & 0xFu) != FLASH_ACR_LATENCY_7WS) {
    }
    /* HPRE /1, PPRE1 /4 (101), PPRE2 /2 (100), then SW = PLL (10); wait for SWS = PLL. */
    RCC_CFGR = (RCC_CFGR & ~0xFCF3u) | (5u << 10) | (4u << 13);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;
    while (((RCC_CFGR >> 2) & 3u) != 2u) {
    }
}

static void caches_on(void)
{
    SCB_ICIALLU = 0u;
    barrier();
    SCB_CCR |= SCB_CCR_IC;
    barrier();

    /* Invalidate the L1 data cache by set and way (its contents are undefined at reset), then enable it. */
    SCB_CSSELR = 0u;
    barrier();
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
    uint32_t line_shift = (ccsidr & 7u) + 4u;
    for (uint32_t set = 0; set < sets; set++) {
        for (uint32_t way = 0; way < ways; way++) {
            SCB_DCISW = (set << line_shift) | (way << 30); /* 4 ways: the way number's field is bits 31:30 */
        }
    }
    barrier();
    SCB_CCR |= SCB_CCR_DC;
    barrier();
}

void microtvm_board_init(void)
{
    clock_216mhz();
    caches_on();
    microtvm_board_console_init();
    microtvm_board_timer_init();
}
