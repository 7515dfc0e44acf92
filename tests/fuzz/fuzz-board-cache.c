/* fuzz-board-cache.c: libFuzzer target for the board cache file ($XDG_CACHE_HOME/ztc/boards.cache,
 * core/lib/dbcache.c), read through ztc_db_load over a small fixed database and then used as --matchdb
 * uses it: accessors, the lazy device.json read, class matching and ztc_match_devices.
 *
 * The input is the file's body: the target frames it with the header and the checksum of this build
 * (ztc_dbcache_put_header/put_sum), so mutations reach the parser instead of failing the checksum, and
 * the seeds do not age with the version. The database is "db" under the scratch dir (ZTC_DB_PATH is
 * relative, the cache keys on it), its files with fixed mtimes: a seed's entries are used as cached.
 * FUZZ_WRITE_SEED=FILE: write the body of the cache this fixture gets (the seed of
 * tests/fuzz/corpus/board-cache) and exit. */
#include "config.h"

#include <ctype.h>
#include <time.h>

#include "dbcache.h"
#include "fuzz-common.h"
#include "internal.h"

static ztc_ctx *ctx;
static char cache_path[512];
static int scratch_fd, caller_fd;

/* The relative paths (ZTC_DB_PATH=db, ZTC_HOME=home) are the scratch dir's only while ztc runs: libFuzzer
 * and the replay open their own (relative) files in between. */
static void enter(void)
{
	if ((caller_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fchdir(scratch_fd) < 0)
		abort();
}

static void leave(void)
{
	if (fchdir(caller_fd) < 0)
		abort();
	close(caller_fd);
}

static void fixed_mtime(const char *path)
{
	const struct timespec t[2] = { { 1000000000, 0 }, { 1000000000, 500 } };

	if (utimensat(AT_FDCWD, path, t, 0) < 0) {
		perror(path);
		abort();
	}
}

static void board(const char *name, const char *json)
{
	char path[64];

	snprintf(path, sizeof(path), "db/%s", name);
	if (mkdir(path, 0700) < 0)
		abort();
	if (json) {
		snprintf(path, sizeof(path), "db/%s/device.json", name);
		fuzz_write_file(path, json, strlen(json));
		fixed_mtime(path);
	}
}

static size_t header_len(void)
{
	struct ztc_buf h = { 0 };
	size_t n;

	if (!ztc_dbcache_put_header(&h))
		abort();
	n = h.len;
	ztc_buf_free(&h);
	return n;
}

static void write_seed(const char *out)
{
	ztc_db *db;
	FILE *f = fopen(cache_path, "rb");
	static unsigned char buf[1 << 20];
	size_t n, skip = header_len();

	if (f) { /* left by an earlier run: this run's is wanted */
		fclose(f);
		remove(cache_path);
	}
	if (ztc_db_load(ctx, &db) != ZTC_OK)
		abort();
	ztc_db_free(db);
	f = fopen(cache_path, "rb");
	if (!f || (n = fread(buf, 1, sizeof(buf), f)) <= skip + 8)
		abort();
	fclose(f);
	fuzz_write_file(out, buf + skip, n - skip - 8);
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("board-cache");
	char cache[300];

	(void)argc;
	(void)argv;
	if ((scratch_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	enter();
	if (mkdir("db", 0700) < 0 || mkdir("home", 0700) < 0 || mkdir("cache", 0700) < 0 ||
	    mkdir("cache/ztc", 0700) < 0)
		abort();
	board("due", "{\"name\": \"Due\", \"target\": \"due\", \"type\": \"board\", \"classes\": ["
		     "{\"class\": \"atmel.Due\", \"usb\": [\"2341:003D\", \"2341:003E\"]},"
		     "{\"class\": \"atmel.DueSid\", \"usb\": [\"2341:003D\"], \"sid\": \"ABC\"}]}\n");
	board("probe", "{\"name\": \"Probe\", \"target\": \"probe\", \"type\": \"jtag\", \"classes\": ["
		       "{\"class\": \"probe.Probe\", \"usb\": [\"0483:374B\"]}], \"has_double_dev\": true}\n");
	board("broken", "{\"name\": \"Broken\", \"target\": ");
	board("badflash", "{\"name\": \"Bad Flash\", \"target\": \"badflash\", \"type\": \"board\", \"classes\": ["
			  "{\"class\": \"atmel.Bad\", \"usb\": [\"2341:0BAD\"]}], \"flash\": {\"version\": 9}}\n");
	board("empty", NULL); /* no device.json */
	fixed_mtime("db");
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(cache_path, sizeof(cache_path), "%s/cache/ztc/boards.cache", dir);
	setenv("XDG_CACHE_HOME", cache, 1);
	setenv("ZTC_DB_PATH", "db", 1);
	setenv("ZTC_HOME", "home", 1);
	if (ztc_ctx_new(&ctx) != ZTC_OK)
		abort();
	if (getenv("FUZZ_WRITE_SEED"))
		write_seed(getenv("FUZZ_WRITE_SEED"));
	leave();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ids[][3] = { { "2341", "003D", "ABC" }, { "2341", "003E", "no_sid" },
					      { "0483", "374B", "X" }, { "FFFF", "0001", "no_sid" } };
	ztc_usbdev devs[4];
	char uids[4][41];
	ztc_usbdev_list list = { 4, devs };
	struct ztc_buf b = { 0 };
	ztc_match_list *ml;
	ztc_store *store;
	ztc_db *db;

	if (size > (1 << 20))
		return 0;
	for (size_t d = 0; d < 4; d++) {
		devs[d] = (ztc_usbdev){ .vid = (char *)ids[d][0], .pid = (char *)ids[d][1], .sid = (char *)ids[d][2],
					.port = "/dev/ttyACM0" };
		if (ztc_uid_compute(devs[d].vid, devs[d].pid, devs[d].sid, uids[d]) != ZTC_OK)
			abort();
		devs[d].uid = uids[d];
	}
	if (!ztc_dbcache_put_header(&b) || !ztc_buf_append(&b, data, size) || !ztc_dbcache_put_sum(&b))
		abort();
	fuzz_write_file(cache_path, b.data, b.len);
	ztc_buf_free(&b);
	enter();
	if (ztc_db_load(ctx, &db) != ZTC_OK) {
		leave();
		return 0;
	}
	for (size_t i = 0; i < ztc_db_count(db); i++) {
		const ztc_target *t = ztc_db_get(db, i);
		const char *id = ztc_target_get_id(t), *type = ztc_target_get_type(t);

		/* What any entry, cached or parsed, must be: load_target()'s rules. */
		FUZZ_CHECK(id && *id && !strchr(id, '/') && !strchr(id, ' '));
		FUZZ_CHECK(ztc_target_get_name(t) && *ztc_target_get_name(t));
		FUZZ_CHECK(type && (!strcmp(type, "board") || !strcmp(type, "jtag") || !strcmp(type, "usbtoserial")));
		FUZZ_CHECK(ztc_db_find(db, id) != NULL);
		for (size_t c = 0; c < ztc_target_class_count(t); c++) {
			FUZZ_CHECK(fuzz_plain_identifier(ztc_target_class_module(t, c)) &&
				   fuzz_plain_identifier(ztc_target_class_name(t, c)));
			FUZZ_CHECK(ztc_target_class_find(t, ztc_target_class_name(t, c)) >= 0);
			for (size_t d = 0; d < 4; d++)
				(void)ztc_target_class_matches(t, c, &devs[d]);
		}
		/* The lazy read of the file itself (it must name the same target, or it is refused). */
		(void)ztc_target_get_int(t, "has_double_dev", 0);
		(void)ztc_target_json(t);
	}
	if (ztc_store_load(ctx, &store) == ZTC_OK) {
		if (ztc_match_devices(ctx, db, store, &list, &ml) == ZTC_OK) {
			for (size_t i = 0; i < ml->n; i++)
				FUZZ_CHECK(ml->m[i].target && ztc_db_find(db, ml->m[i].target) == ml->m[i].t);
			ztc_match_list_free(ml);
		}
		ztc_store_free(store);
	}
	ztc_db_free(db);
	leave();
	return 0;
}
