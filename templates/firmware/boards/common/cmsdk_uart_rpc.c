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
#define RPC_UART_INTCLEAR (*(volatile uint32_t *)(MICROTVM_RPC_UART_BASE + 0x0Cu))
#define UART_CTRL_TX_ENABLE 0x1u
#define UART_CTRL_RX_ENABLE 0x2u
#define UART_CTRL_RX_INTERRUPT 0x8u
#define UART_INT_RX 0x2u

/* With the UART's receive interrupt line (MICROTVM_RPC_UART_RX_IRQ) the wait for a byte sleeps (WFI) with interrupts
 * masked instead of polling: under QEMU -icount a polling loop runs a whole timer period of instructions before the
 * emulator looks at its sockets again (about 50 ms per frame); sleeping lets it deliver the byte at once. */
#ifdef MICROTVM_RPC_UART_RX_IRQ
#define NVIC_ISER (((volatile uint32_t *)0xE000E100u)[(MICROTVM_RPC_UART_RX_IRQ) / 32u])
#define NVIC_ICER (((volatile uint32_t *)0xE000E180u)[(MICROTVM_RPC_UART_RX_IRQ) / 32u])
#define NVIC_ICPR (((volatile uint32_t *)0xE000E280u)[(MICROTVM_RPC_UART_RX_IRQ) / 32u])
#define RX_IRQ_BIT (1u << ((MICROTVM_RPC_UART_RX_IRQ) % 32u))
#endif

void microtvm_board_rpc_init(void)
{
    RPC_UART_BAUDDIV = MICROTVM_UART_CLOCK_HZ / 115200u;
#ifdef MICROTVM_RPC_UART_RX_IRQ
    RPC_UART_CTRL = UART_CTRL_TX_ENABLE | UART_CTRL_RX_ENABLE | UART_CTRL_RX_INTERRUPT;
#else
    RPC_UART_CTRL = UART_CTRL_TX_ENABLE | UART_CTRL_RX_ENABLE;
#endif
}

size_t microtvm_board_rpc_read(uint8_t *data, size_t capacity)
{
    size_t count = 0;
#ifdef MICROTVM_RPC_UART_RX_IRQ
    __asm volatile("cpsid i" ::: "memory");
    for (;;) {
        RPC_UART_INTCLEAR = UART_INT_RX;
        NVIC_ICPR = RX_IRQ_BIT;
        if ((RPC_UART_STATE & UART_STATE_RX_FULL) != 0u) {
            break;
        }
        /* Enabled only around WFI, so it wakes the core but is never taken: a byte that arrived since the check
         * leaves the line pending and WFI returns at once. */
        NVIC_ISER = RX_IRQ_BIT;
        __asm volatile("wfi" ::: "memory");
        NVIC_ICER = RX_IRQ_BIT;
    }
    NVIC_ICPR = RX_IRQ_BIT;
    __asm volatile("cpsie i" ::: "memory");
#else
    while ((RPC_UART_STATE & UART_STATE_RX_FULL) == 0u) {
    }
#endif
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
