/* fuzz-fota-record.c: libFuzzer target for the file-backed FOTA store's record (dir/record.json), as
 * zadm_fota_store_file_new reads it when a device (re)starts; a record that loads then goes through
 * attempt, boot, accept and boot, and every state it writes must load again.
 * Input: one byte (the number of slots, 1 to 4), then the record file. */
#include "config.h"

#include "fuzz-common.h"
#include "internal.h"

static const char *dir;
static char record_path[400];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_scratch("fota-record");
	snprintf(record_path, sizeof(record_path), "%s/record.json", dir);
	for (int i = 0; i < 4; i++) {
		char path[400];

		snprintf(path, sizeof(path), "%s/bc%d.bin", dir, i);
		fuzz_write_file(path, "", 0);
		snprintf(path, sizeof(path), "%s/vm%d.bin", dir, i);
		fuzz_write_file(path, "", 0);
	}
	return 0;
}

static void check_record(zadm_fota_store *st, int nslots)
{
	zadm_fota_record rec;

	FUZZ_CHECK(zadm_fota_store_get_record(st, &rec) == ZADM_OK);
	FUZZ_CHECK(rec.valid && rec.bc >= 0 && rec.bc < nslots && rec.vm >= 0 && rec.vm < nslots);
	FUZZ_CHECK(rec.chunk > 0 && rec.chunk <= 1u << 24);
}

/* The record on disk now opens as a store again (a restart at this point). */
static void reopen(int nslots)
{
	zadm_fota_store *st = NULL;

	FUZZ_CHECK(zadm_fota_store_file_new(dir, nslots, 0, &st) == ZADM_OK);
	check_record(st, nslots);
	zadm_fota_store_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zadm_fota_store *st = NULL;
	zadm_fota_record rec;
	int nslots, r;

	if (size < 1)
		return 0;
	nslots = 1 + (data[0] & 3);
	fuzz_write_file(record_path, data + 1, size - 1);
	r = zadm_fota_store_file_new(dir, nslots, 0, &st);
	if (r != ZADM_OK) {
		FUZZ_CHECK(r == ZADM_ERR_CORRUPT && st == NULL);
		return 0;
	}
	check_record(st, nslots);
	reopen(nslots);
	FUZZ_CHECK(zadm_fota_store_get_record(st, &rec) == ZADM_OK);
	/* Try the other slots, restart, accept, restart: each step is durable and loads back. */
	if (nslots > 1) {
		int bc = (rec.bc + 1) % nslots, vm = (rec.vm + 1) % nslots;

		FUZZ_CHECK(zadm_fota_store_attempt(st, bc, vm) == ZADM_OK);
		reopen(nslots);
		FUZZ_CHECK(zadm_fota_store_boot(st) == ZADM_OK);
		check_record(st, nslots);
		FUZZ_CHECK(zadm_fota_store_get_record(st, &rec) == ZADM_OK && rec.bc == bc && rec.vm == vm);
		FUZZ_CHECK(zadm_fota_store_accept(st) == ZADM_OK);
		FUZZ_CHECK(zadm_fota_store_boot(st) == ZADM_OK);
		FUZZ_CHECK(zadm_fota_store_get_record(st, &rec) == ZADM_OK && rec.bc == bc && rec.vm == vm);
		reopen(nslots);
	}
	zadm_fota_store_free(st);
	return 0;
}
