/*
 * The PC's 16550 UART (PC16550D datasheet): COM1's ports and the register
 * bits Kestrel uses. Shared by stage 1 (16-bit assembly), stage 2 (32-bit C)
 * and the kernel's driver (drivers/serial.c), so one register map serves all.
 */
#ifndef ARCH_UART16550_H
#define ARCH_UART16550_H

#define COM1_PORT               0x3F8
#define UART_DATA               0       /* RBR/THR; divisor low when LCR.DLAB = 1 */
#define UART_IER                1       /* interrupt enable; divisor high when DLAB = 1 */
#define   IER_RX_AVAILABLE      0x01
#define UART_FCR                2       /* FIFO control */
#define   FCR_ENABLE            0x01
#define   FCR_CLEAR             0x06    /* clear receive and transmit FIFOs */
#define   FCR_TRIG_14           0xC0
#define UART_LCR                3       /* line control */
#define   LCR_8N1               0x03
#define   LCR_DLAB              0x80
#define UART_MCR                4       /* modem control */
#define   MCR_DTR_RTS           0x03
#define   MCR_OUT2              0x08    /* gates the IRQ line on PCs */
#define   MCR_LOOP              0x10
#define UART_LSR                5       /* line status */
#define   LSR_DR                0x01    /* data ready */
#define   LSR_THRE              0x20    /* transmit holding register empty */
#define UART_SCR                7       /* scratch */
#define UART_CLOCK              115200  /* the divisor's input: 1.8432 MHz / 16 */
#define UART_BAUD               115200
#define UART_DIVISOR            (UART_CLOCK / UART_BAUD)
/* Transmit-ready polls before a dead UART is given up on, never waited on forever. */
#define UART_TX_SPIN            100000

#endif
