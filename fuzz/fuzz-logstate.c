/*
 * fuzz-logstate.c - hostd's persisted host-log state (AUDIT_DIR/log-state).
 * Whatever the parser accepts formats back to the same bytes.
 */
#include "gate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], out[GATE_LOG_STATE_SIZE];
	unsigned long refused;
	int failed;

	if (gate_log_state_parse((const char *)data, size, &failed, &refused, why) != 0)
		return 0;
	if (strlen(why) >= sizeof(why) ||
	    gate_log_state_format(failed, refused, why, out) != 0 ||
	    memcmp(out, data, GATE_LOG_STATE_SIZE) != 0)
		__builtin_trap();
	return 0;
}
