/* replay.c: runs a fuzz target's LLVMFuzzerTestOneInput on files, without libFuzzer, so the normal
 * (gcc, libtool) build checks the crash inputs of tests/fuzz/crashes and the seed corpora. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t len = 0, cap = 0, r;

		if (!f) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (cap - len < 4096) {
				cap = cap ? cap * 2 : 65536;
				buf = realloc(buf, cap);
				if (!buf)
					return 1;
			}
			r = fread(buf + len, 1, cap - len, f);
			len += r;
		} while (r > 0);
		fclose(f);
		/* A copy of exactly len bytes, as libFuzzer hands it over: ASan sees any overread. */
		{
			uint8_t *exact = malloc(len ? len : 1);

			if (!exact)
				return 1;
			for (size_t k = 0; k < len; k++)
				exact[k] = buf[k];
			LLVMFuzzerTestOneInput(exact, len);
			free(exact);
		}
		free(buf);
	}
	return 0;
}
