/* RPC byte transport on a second Arm CMSDK APB UART (MPS2/MPS3 FPGA images), apart from the console's:
 * MICROTVM_RPC_UART_BASE comes from the board description. Under QEMU it is the second -serial. */
#include <stdint.h>

#include "microtvm/rpc.h"

#ifndef MICROTVM_RPC_UART_BASE
#error "board description must define MICROTVM_RPC_UART_BASE"
#endif
#ifndef MICROTVM_UART_CLOCK_HZ
#error "board description must define MICROTVM_UART_CLOCK_HZ"
#endif

#define RPC_UART_DATA (*(volatile uint32_t *)(MICROTVM_RPC_UART_BASE + 0x00u))
#define RPC_UART_STATE (*(volatile uint32_t *)(MICROTVM_RPC_UART_BASE + 0x04u))
#define RPC_UART_CTRL (*(volatile uint32_t *)(MICROTVM_RPC_UART_BASE + 0x08u))
#define RPC_UART_BAUDDIV (*(volatile uint32_t *)(MICROTVM_RPC_UART_BASE + 0x10u))
#define UART_STATE_TX_FULL 0x1u
#define UART_STATE_RX_FULL 0x2u
#define UART_CTRL_TX_ENABLE 0x1u
#define UART_CTRL_RX_ENABLE 0x2u

void microtvm_board_rpc_init(void)
{
    RPC_UART_BAUDDIV = MICROTVM_UART_CLOCK_HZ / 115200u;
    RPC_UART_CTRL = UART_CTRL_TX_ENABLE | UART_CTRL_RX_ENABLE;
}

size_t microtvm_board_rpc_read(uint8_t *data, size_t capacity)
{
    size_t count = 0;
    while ((RPC_UART_STATE & UART_STATE_RX_FULL) == 0u) {
    }
    /* Then whatever else already waits, without blocking again. */
    while (count < capacity && (RPC_UART_STATE & UART_STATE_RX_FULL) != 0u) {
        data[count++] = (uint8_t)RPC_UART_DATA;
    }
    return count;
}

void microtvm_board_rpc_write(const uint8_t *data, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        while ((RPC_UART_STATE & UART_STATE_TX_FULL) != 0u) {
        }
        RPC_UART_DATA = data[i];
    }
}
