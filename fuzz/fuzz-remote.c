/* fuzz-remote.c - the framed messages of remote use, both directions. */
#include "remote.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	remote_msg m;
	bg_error e;
	int response;

	for (response = 0; response < 2; response++) {
		if (remote_parse(data, size, response, &m, &e) == 0) {
			buf b;
			remote_msg m2;
			size_t i;

			/* what parses re-encodes to a message that parses the same */
			buf_init(&b, REMOTE_MAX_MSG);
			buf_puts(&b, response ? REMOTE_MAGIC_RES : REMOTE_MAGIC_REQ);
			for (i = 0; i < m.argc; i++)
				remote_put(&b, 'A', m.argv[i], strlen(m.argv[i]));
			for (i = 0; i < m.nfiles; i++)
				remote_put_file(&b, response ? 'F' : 'I', m.files[i].arg,
				    response ? NULL : m.files[i].name, m.files[i].data, m.files[i].len);
			for (i = 0; i < m.nouts; i++)
				remote_put_file(&b, 'O', m.outs[i], NULL, NULL, 0);
			if (response) {
				unsigned char st = (unsigned char)m.status;

				if (m.outb.len)
					remote_put(&b, 'O', m.outb.data, m.outb.len);
				if (m.errb.len)
					remote_put(&b, 'E', m.errb.data, m.errb.len);
				remote_put(&b, 'X', &st, 1);
			}
			remote_put(&b, 'Z', NULL, 0);
			if (remote_parse(b.data, b.len, response, &m2, &e) != 0 || m2.argc != m.argc ||
			    m2.nfiles != m.nfiles || m2.nouts != m.nouts || m2.status != m.status ||
			    m2.outb.len != m.outb.len || m2.errb.len != m.errb.len)
				__builtin_trap();
			for (i = 0; i < m.argc; i++)
				if (strcmp(m.argv[i], m2.argv[i]) != 0)
					__builtin_trap();
			for (i = 0; i < m.nfiles; i++)
				if (m.files[i].len != m2.files[i].len || m.files[i].arg != m2.files[i].arg ||
				    strcmp(m.files[i].name, m2.files[i].name) != 0 ||
				    (m.files[i].len && memcmp(m.files[i].data, m2.files[i].data,
				    m.files[i].len) != 0))
					__builtin_trap();
			remote_release(&m2);
			buf_release(&b);
		}
		remote_release(&m);
	}
	return 0;
}
