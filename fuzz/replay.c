/*
 * replay.c - a stand-in for libFuzzer's main so `make check` can run every
 * fuzz target over its corpus under ASan/UBSan without libFuzzer.  Each
 * seed is run as is and then with a fixed set of deterministic mutations
 * (truncations, byte flips, duplications), so the replay also walks a
 * little way past the seeds.
 *
 * usage: fuzz-TARGET DIR_OR_FILE...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long runs;

static void
run(const uint8_t *d, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, d, n); /* a fresh allocation so ASan sees overreads */
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	runs++;
}

static void
mutate(const uint8_t *d, size_t n)
{
	uint8_t *m;
	size_t i;
	uint32_t x = 2166136261u;

	if (n == 0)
		return;
	if ((m = malloc(n * 2 + 1)) == NULL)
		abort();
	for (i = 1; i < n && i < 4096; i *= 2)
		run(d, n - i);                      /* truncations */
	for (i = 0; i < 48; i++) {                  /* byte flips, pseudo-random */
		x = x * 16777619u ^ (uint32_t)i;
		memcpy(m, d, n);
		m[x % n] ^= (uint8_t)(1u << (x >> 8 & 7));
		m[(x >> 12) % n] = (uint8_t)"\0\n \"'\\:=,#-\xff"[x % 13];
		run(m, n);
	}
	memcpy(m, d, n);                            /* duplication */
	memcpy(m + n, d, n);
	run(m, 2 * n);
	free(m);
}

static int
one_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((d = realloc(d, cap)) == NULL)
				abort();
		}
		got = fread(d + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	run(d, n);
	mutate(d, n);
	free(d);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, bad = 0, files = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *de;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= one_file(argv[i]);
			files++;
			continue;
		}
		if ((dir = opendir(argv[i])) == NULL) {
			perror(argv[i]);
			return 1;
		}
		while ((de = readdir(dir)) != NULL) {
			char p[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
			bad |= one_file(p);
			files++;
		}
		closedir(dir);
	}
	if (files == 0) {
		fprintf(stderr, "%s: empty corpus\n", argv[0]);
		return 1;
	}
	printf("%s: %d seeds, %lu runs, ok\n", argv[0], files, runs);
	return bad;
}
