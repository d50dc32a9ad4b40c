/* Board bring-up shared by the emulated MPS2/MPS3 boards: console, then timer. */
#include "microtvm/platform.h"

void microtvm_board_console_init(void);
void microtvm_board_timer_init(void);

void microtvm_board_init(void)
{
    microtvm_board_console_init();
    microtvm_board_timer_init();
}
