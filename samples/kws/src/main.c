/* Keyword spotting on a Cortex-M: runs the KWS model (compiled from kws.tflite by the build) on the three
 * stored test inputs and prints the 12 int8 scores, the top class and the instructions each inference took. */
#include <stdio.h>

#include "kws.h" /* generated: obj/<Configuration>/models/kws.h */
#include "microtvm/platform.h"
#include "test_inputs.h"

/* MLPerf Tiny keyword spotting classes, in the model's output order. */
static const char *const labels[KWS_OUTPUT0_ELEMENTS] = {
    "down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown",
};

/* The model's activations: one static buffer, sized and aligned as the generated header says. */
static uint8_t workspace[KWS_WORKSPACE_SIZE] __attribute__((aligned(KWS_WORKSPACE_ALIGNMENT)));

int main(void)
{
    _Static_assert(KWS_INPUT0_SIZE == KWS_TEST_INPUT_SIZE, "the test inputs do not fit the model");
    for (int k = 0; k < KWS_TEST_INPUT_COUNT; k++) {
        kws_output0_t scores[KWS_OUTPUT0_ELEMENTS];
        const kws_inputs inputs = { .input0 = kws_test_inputs[k] };
        const kws_outputs outputs = { .output0 = scores };

        microtvm_timer_start();
        if (kws_run(&inputs, &outputs, workspace) != 0) {
            microtvm_abort("kws_run failed");
        }
        /* Under QEMU -icount shift=0 a nanosecond of emulated time is one instruction. */
        const uint64_t ns = microtvm_timer_ticks_to_ns(microtvm_timer_stop());

        int top = 0;
        printf("input %d: scores", k);
        for (int c = 0; c < KWS_OUTPUT0_ELEMENTS; c++) {
            printf(" %d", scores[c]);
            if (scores[c] > scores[top]) {
                top = c;
            }
        }
        /* Dequantized: (score - zero point) * scale = probability. */
        const int percent = (int)((scores[top] - KWS_OUTPUT0_ZERO_POINT) * KWS_OUTPUT0_SCALE * 100.0f + 0.5f);
        printf("\ninput %d: top class %d '%s' (%d%%), %lu instructions\n", k, top, labels[top], percent, (unsigned long)ns);
    }
    return 0;
}
