/* fuzz-replay.c - the asciicast reader and the terminal-output filter. */
#include "replay.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int null = -1;
	replay_opts o = { 1, 0.001, 1, 0, 1 };
	replay_filter f;
	bg_error e;
	buf out;

	if (null < 0)
		null = open("/dev/null", O_WRONLY);
	(void)replay_play((const char *)data, size, null, &o, &e);
	/* the filter on raw bytes: its output never carries ESC ] or C1 */
	replay_filter_init(&f, 0);
	buf_init(&out, 0);
	if (replay_filter_run(&f, (const char *)data, size, &out) == 0) {
		for (size_t i = 0; i + 1 < out.len; i++)
			if (out.data[i] == 0x1b && out.data[i + 1] != '[')
				__builtin_trap();
	}
	buf_release(&out);
	replay_filter_release(&f);
	return 0;
}
