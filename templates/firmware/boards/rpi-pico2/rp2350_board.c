/* Raspberry Pi Pico 2 (RP2350, Cortex-M33, Arm secure) bring-up: the boot ROM's image definition, the 12 MHz crystal
 * (XOSC) as reference and system clock, then UART0 on GPIO0 (TX) at 115200 8N1 from clk_peri = clk_sys, then the
 * timer (SysTick at 12 MHz). Registers and the IMAGE_DEF block: RP2350 datasheet (sections 5.9 "Metadata block
 * details", 6.3 XOSC, 8.1 Clocks, 7.5 Resets, 9 GPIO/pads, 12.1 UART). Written from the documents, compiled and linked
 * here; not run (no board on the test machine). */
#include <stdint.h>

#include "microtvm/platform.h"

/* The boot ROM starts an Arm image only if a block with an IMAGE_DEF item lies in its first 4 KiB. The section is
 * .vectors, which the linker script keeps at the start of flash: this file follows cortexm_startup.c, so the block
 * follows the vector table (at 0x10000040). Words: block start marker; IMAGE_TYPE item (size 1 word) with flags
 * EXE | secure | Arm | RP2350 = 0x1021; LAST item (the block's items are 1 word); link to itself; end marker. */
__attribute__((section(".vectors"), used, aligned(4))) static const uint32_t rp2350_image_def[5] = {
    0xFFFFDED3u, 0x10210142u, 0x000001FFu, 0x00000000u, 0xAB123579u,
};

#define XOSC_BASE 0x40048000u
#define XOSC_CTRL (*(volatile uint32_t *)(XOSC_BASE + 0x00u))
#define XOSC_STATUS (*(volatile uint32_t *)(XOSC_BASE + 0x04u))
#define XOSC_STARTUP (*(volatile uint32_t *)(XOSC_BASE + 0x0Cu))
#define XOSC_CTRL_ENABLE_1_15MHZ ((0xFABu << 12) | 0xAA0u)
#define XOSC_STATUS_STABLE (1u << 31)

#define CLOCKS_BASE 0x40010000u
#define CLK_REF_CTRL (*(volatile uint32_t *)(CLOCKS_BASE + 0x30u))
#define CLK_REF_SELECTED (*(volatile uint32_t *)(CLOCKS_BASE + 0x38u))
#define CLK_SYS_CTRL (*(volatile uint32_t *)(CLOCKS_BASE + 0x3Cu))
#define CLK_SYS_SELECTED (*(volatile uint32_t *)(CLOCKS_BASE + 0x44u))
#define CLK_PERI_CTRL (*(volatile uint32_t *)(CLOCKS_BASE + 0x48u))
#define CLK_REF_SRC_XOSC 2u
#define CLK_PERI_ENABLE (1u << 11)

#define RESETS_BASE 0x40020000u
#define RESETS_RESET_CLR (*(volatile uint32_t *)(RESETS_BASE + 0x3000u + 0x0u))
#define RESETS_RESET_DONE (*(volatile uint32_t *)(RESETS_BASE + 0x8u))
#define RESET_IO_BANK0 (1u << 6)
#define RESET_PADS_BANK0 (1u << 9)
#define RESET_UART0 (1u << 26)

#define IO_BANK0_GPIO0_CTRL (*(volatile uint32_t *)(0x40028000u + 0x004u))
#define PADS_BANK0_GPIO0 (*(volatile uint32_t *)(0x40038000u + 0x004u))
#define FUNCSEL_UART 2u
#define PAD_IE (1u << 6)
#define PAD_OD (1u << 7)
#define PAD_ISO (1u << 8)

#define UART0_BASE 0x40070000u
#define UART0_DR (*(volatile uint32_t *)(UART0_BASE + 0x000u))
#define UART0_FR (*(volatile uint32_t *)(UART0_BASE + 0x018u))
#define UART0_IBRD (*(volatile uint32_t *)(UART0_BASE + 0x024u))
#define UART0_FBRD (*(volatile uint32_t *)(UART0_BASE + 0x028u))
#define UART0_LCR_H (*(volatile uint32_t *)(UART0_BASE + 0x02Cu))
#define UART0_CR (*(volatile uint32_t *)(UART0_BASE + 0x030u))
#define UART_FR_TXFF (1u << 5)
#define UART_LCR_H_8BITS_FIFO ((3u << 5) | (1u << 4))
#define UART_CR_ENABLE_TX ((1u << 0) | (1u << 8))

#if MICROTVM_CPU_CLOCK_HZ != 12000000u || MICROTVM_UART_CLOCK_HZ != 12000000u
#error "board.props and this clock set-up disagree: clk_sys = clk_peri = XOSC 12 MHz"
#endif
/* Baud divisor in 1/64ths, rounded: 12 MHz / (16 x 115200) = 6 + 33/64. */
#define UART_DIVISOR_64THS ((8u * MICROTVM_UART_CLOCK_HZ / 115200u + 1u) / 2u)

void microtvm_board_timer_init(void);

static void clocks_on_crystal(void)
{
    XOSC_STARTUP = 47u * 64u; /* about 1 ms at 12 MHz, in 256-cycle units, with the SDK's usual margin */
    XOSC_CTRL = XOSC_CTRL_ENABLE_1_15MHZ;
    while ((XOSC_STATUS & XOSC_STATUS_STABLE) == 0u) {
    }
    CLK_REF_CTRL = CLK_REF_SRC_XOSC;
    while ((CLK_REF_SELECTED & (1u << CLK_REF_SRC_XOSC)) == 0u) {
    }
    CLK_SYS_CTRL = 0u; /* clk_sys from clk_ref, glitchless */
    while ((CLK_SYS_SELECTED & 1u) == 0u) {
    }
    CLK_PERI_CTRL = CLK_PERI_ENABLE; /* from clk_sys (AUXSRC 0) */
}

static void console_init(void)
{
    uint32_t blocks = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
    RESETS_RESET_CLR = blocks;
    while ((RESETS_RESET_DONE & blocks) != blocks) {
    }
    UART0_IBRD = UART_DIVISOR_64THS >> 6;
    UART0_FBRD = UART_DIVISOR_64THS & 63u;
    UART0_LCR_H = UART_LCR_H_8BITS_FIFO; /* also latches the divisor */
    UART0_CR = UART_CR_ENABLE_TX;
    IO_BANK0_GPIO0_CTRL = FUNCSEL_UART;
    /* RP2350 pads start isolated: release the pad once its function is chosen. */
    PADS_BANK0_GPIO0 = (PADS_BANK0_GPIO0 & ~(PAD_ISO | PAD_OD)) | PAD_IE;
}

void microtvm_board_init(void)
{
    clocks_on_crystal();
    console_init();
    microtvm_board_timer_init();
}

static void put_char(char c)
{
    while ((UART0_FR & UART_FR_TXFF) != 0u) {
    }
    UART0_DR = (uint32_t)(unsigned char)c;
}

void microtvm_board_console_write(const char *data, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (data[i] == '\n') {
            put_char('\r');
        }
        put_char(data[i]);
    }
}
