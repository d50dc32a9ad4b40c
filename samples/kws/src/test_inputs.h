#ifndef KWS_TEST_INPUTS_H_
#define KWS_TEST_INPUTS_H_

#include <stdint.h>

#define KWS_TEST_INPUT_COUNT 3
#define KWS_TEST_INPUT_SIZE 490 /* 49 frames x 10 MFCC features, int8 */

extern const int8_t kws_test_inputs[KWS_TEST_INPUT_COUNT][KWS_TEST_INPUT_SIZE];

#endif
