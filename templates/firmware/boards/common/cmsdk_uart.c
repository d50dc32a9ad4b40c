/* Console on an Arm CMSDK APB UART (MPS2/MPS3 FPGA images). MICROTVM_UART_BASE and
 * MICROTVM_UART_CLOCK_HZ come from the board description. */
#include <stdint.h>

#include "microtvm/platform.h"

#ifndef MICROTVM_UART_BASE
#error "board description must define MICROTVM_UART_BASE"
#endif
#ifndef MICROTVM_UART_CLOCK_HZ
#error "board description must define MICROTVM_UART_CLOCK_HZ"
#endif

#define UART_DATA (*(volatile uint32_t *)(MICROTVM_UART_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(MICROTVM_UART_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(MICROTVM_UART_BASE + 0x08u))
#define UART_BAUDDIV (*(volatile uint32_t *)(MICROTVM_UART_BASE + 0x10u))
#define UART_STATE_TX_FULL 0x1u
#define UART_CTRL_TX_ENABLE 0x1u

void microtvm_board_console_init(void);
void microtvm_board_console_init(void)
{
    UART_BAUDDIV = MICROTVM_UART_CLOCK_HZ / 115200u;
    UART_CTRL = UART_CTRL_TX_ENABLE;
}

static void put_char(char c)
{
    while ((UART_STATE & UART_STATE_TX_FULL) != 0u) {
    }
    UART_DATA = (uint32_t)(unsigned char)c;
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
