/* nRF52840-DK bring-up and console: the 64 MHz crystal oscillator (HFXO, for an exact baud rate; the core runs at
 * 64 MHz either way), then UART0 on P0.06 (TXD) at 115200 8N1, the J-Link OB's virtual COM port, then the timer.
 * Registers: nRF52840 Product Specification v1.7 (CLOCK, UART, GPIO). Written from the documents, compiled and linked
 * here; not run (no board on the test machine). */
#include <stdint.h>

#include "microtvm/platform.h"

#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART (*(volatile uint32_t *)(CLOCK_BASE + 0x000u))
#define CLOCK_EVENTS_HFCLKSTARTED (*(volatile uint32_t *)(CLOCK_BASE + 0x100u))

#define UART0_BASE 0x40002000u
#define UART0_TASKS_STARTTX (*(volatile uint32_t *)(UART0_BASE + 0x008u))
#define UART0_EVENTS_TXDRDY (*(volatile uint32_t *)(UART0_BASE + 0x11Cu))
#define UART0_ENABLE (*(volatile uint32_t *)(UART0_BASE + 0x500u))
#define UART0_PSEL_RTS (*(volatile uint32_t *)(UART0_BASE + 0x508u))
#define UART0_PSEL_TXD (*(volatile uint32_t *)(UART0_BASE + 0x50Cu))
#define UART0_PSEL_CTS (*(volatile uint32_t *)(UART0_BASE + 0x510u))
#define UART0_PSEL_RXD (*(volatile uint32_t *)(UART0_BASE + 0x514u))
#define UART0_TXD (*(volatile uint32_t *)(UART0_BASE + 0x51Cu))
#define UART0_BAUDRATE (*(volatile uint32_t *)(UART0_BASE + 0x524u))
#define UART0_CONFIG (*(volatile uint32_t *)(UART0_BASE + 0x56Cu))
#define UART_ENABLE_ENABLED 4u
#define UART_BAUDRATE_115200 0x01D7E000u
#define PSEL_DISCONNECTED 0xFFFFFFFFu

#define P0_BASE 0x50000000u
#define P0_OUTSET (*(volatile uint32_t *)(P0_BASE + 0x508u))
#define P0_PIN_CNF(n) (*(volatile uint32_t *)(P0_BASE + 0x700u + 4u * (n)))
#define TXD_PIN 6u

void microtvm_board_timer_init(void);

static void console_init(void)
{
    /* TXD idles high: an output driven high before the UART takes the pin. */
    P0_OUTSET = 1u << TXD_PIN;
    P0_PIN_CNF(TXD_PIN) = 1u; /* DIR output, input buffer connected, no pull */
    UART0_PSEL_RTS = PSEL_DISCONNECTED;
    UART0_PSEL_CTS = PSEL_DISCONNECTED;
    UART0_PSEL_RXD = PSEL_DISCONNECTED;
    UART0_PSEL_TXD = TXD_PIN; /* port 0, pin 6, connected */
    UART0_BAUDRATE = UART_BAUDRATE_115200;
    UART0_CONFIG = 0u; /* no parity, no flow control, one stop bit */
    UART0_ENABLE = UART_ENABLE_ENABLED;
    UART0_TASKS_STARTTX = 1u;
}

void microtvm_board_init(void)
{
    CLOCK_EVENTS_HFCLKSTARTED = 0u;
    CLOCK_TASKS_HFCLKSTART = 1u;
    while (CLOCK_EVENTS_HFCLKSTARTED == 0u) {
    }
    console_init();
    microtvm_board_timer_init();
}

static void put_char(char c)
{
    UART0_EVENTS_TXDRDY = 0u;
    UART0_TXD = (uint32_t)(unsigned char)c;
    while (UART0_EVENTS_TXDRDY == 0u) {
    }
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
