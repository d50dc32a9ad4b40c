/* Console on STM32F7/H7 USART3 (PD8 = TX), the ST-LINK virtual COM port of NUCLEO-144 boards, at 115200 baud from
 * the USART's kernel clock (MICROTVM_UART_CLOCK_HZ: APB1); with -DMICROTVM_RPC_USART3 also the RPC byte transport
 * (PD9 = RX; console text between frames is garbage the host's parser skips). The USART is the same on both
 * families (STM32F7 reference manual RM0385, STM32H7 RM0433); where the clock enables and GPIOD live differs, so the
 * board gives those addresses (MICROTVM_STM32_RCC_GPIOD_ENR, MICROTVM_STM32_RCC_USART3_ENR, MICROTVM_STM32_GPIOD_BASE). */
#include <stdint.h>

#include "microtvm/platform.h"

#ifndef MICROTVM_UART_CLOCK_HZ
#error "board description must define MICROTVM_UART_CLOCK_HZ"
#endif
#if !defined(MICROTVM_STM32_RCC_GPIOD_ENR) || !defined(MICROTVM_STM32_RCC_USART3_ENR) || !defined(MICROTVM_STM32_GPIOD_BASE)
#error "board description must define MICROTVM_STM32_RCC_GPIOD_ENR, MICROTVM_STM32_RCC_USART3_ENR and MICROTVM_STM32_GPIOD_BASE"
#endif

#define RCC_GPIOD_ENR (*(volatile uint32_t *)(MICROTVM_STM32_RCC_GPIOD_ENR))
#define RCC_USART3_ENR (*(volatile uint32_t *)(MICROTVM_STM32_RCC_USART3_ENR))
#define RCC_GPIODEN (1u << 3)
#define RCC_USART3EN (1u << 18)

#define GPIOD_MODER (*(volatile uint32_t *)(MICROTVM_STM32_GPIOD_BASE + 0x00u))
#define GPIOD_AFRH (*(volatile uint32_t *)(MICROTVM_STM32_GPIOD_BASE + 0x24u))

#define USART3_BASE 0x40004800u
#define USART3_CR1 (*(volatile uint32_t *)(USART3_BASE + 0x00u))
#define USART3_BRR (*(volatile uint32_t *)(USART3_BASE + 0x0Cu))
#define USART3_ISR (*(volatile uint32_t *)(USART3_BASE + 0x1Cu))
#define USART3_ICR (*(volatile uint32_t *)(USART3_BASE + 0x20u))
#define USART3_RDR (*(volatile uint32_t *)(USART3_BASE + 0x24u))
#define USART3_TDR (*(volatile uint32_t *)(USART3_BASE + 0x28u))
#define USART_CR1_RE (1u << 2)
#define USART_ISR_ORE (1u << 3)
#define USART_ISR_RXNE (1u << 5)
#define USART_CR1_UE (1u << 0)
#define USART_CR1_TE (1u << 3)
#define USART_ISR_TXE (1u << 7)

void microtvm_board_console_init(void);
void microtvm_board_console_init(void)
{
    RCC_GPIOD_ENR |= RCC_GPIODEN;
    RCC_USART3_ENR |= RCC_USART3EN;
    (void)RCC_USART3_ENR; /* The enable takes effect before the peripheral is touched. */

    /* PD8: alternate function 7 (USART3_TX). */
    GPIOD_MODER = (GPIOD_MODER & ~(3u << 16)) | (2u << 16);
    GPIOD_AFRH = (GPIOD_AFRH & ~0xFu) | 7u;

    USART3_BRR = (MICROTVM_UART_CLOCK_HZ + 115200u / 2u) / 115200u;
    USART3_CR1 = USART_CR1_UE | USART_CR1_TE;
}

static void put_char(char c)
{
    while ((USART3_ISR & USART_ISR_TXE) == 0u) {
    }
    USART3_TDR = (uint32_t)(unsigned char)c;
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

#ifdef MICROTVM_RPC_USART3
#include "microtvm/rpc.h"

void microtvm_board_rpc_init(void)
{
    /* PD9: alternate function 7 (USART3_RX); the receiver joins the console's transmitter. */
    GPIOD_MODER = (GPIOD_MODER & ~(3u << 18)) | (2u << 18);
    GPIOD_AFRH = (GPIOD_AFRH & ~0xF0u) | (7u << 4);
    USART3_CR1 |= USART_CR1_RE;
}

size_t microtvm_board_rpc_read(uint8_t *data, size_t capacity)
{
    size_t count = 0;
    do {
        uint32_t status = USART3_ISR;
        if ((status & USART_ISR_ORE) != 0u) {
            USART3_ICR = USART_ISR_ORE; /* a lost byte: the frame's CRC fails and the host retries */
        }
        if ((status & USART_ISR_RXNE) != 0u) {
            data[count++] = (uint8_t)USART3_RDR;
        }
    } while (count == 0u || (count < capacity && (USART3_ISR & USART_ISR_RXNE) != 0u));
    return count;
}

void microtvm_board_rpc_write(const uint8_t *data, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        put_char((char)data[i]);
    }
}
#endif
