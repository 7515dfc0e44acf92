/* fuzz-device-json.c: libFuzzer target for a board's device.json, read through ztc_db_load from a
 * database dir (ZTC_DB_PATH) and then used as discovery and registration use it: accessors, serial
 * parameters, the flash object's rules, class matching and ztc_match_devices with and without a stored
 * alias. */
#include "config.h"

#include <ctype.h>
#include <limits.h>

#include <yajl/yajl_tree.h>

#include "fuzz-common.h"
#include "internal.h"
#include "ztc/register.h"

static ztc_ctx *ctx;
static char json_path[512], board_dir[320];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("device-json");
	char db[300], home[300];

	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(board_dir, sizeof(board_dir), "%s/board", db);
	snprintf(home, sizeof(home), "%s/home", dir);
	snprintf(json_path, sizeof(json_path), "%s/device.json", board_dir);
	if (mkdir(db, 0700) < 0 || mkdir(board_dir, 0700) < 0 || mkdir(home, 0700) < 0)
		abort();
	setenv("ZTC_DB_PATH", db, 1);
	setenv("ZTC_HOME", home, 1);
	if (ztc_ctx_new(&ctx) != ZTC_OK)
		abort();
	return 0;
}

static bool is_hex4(const uint8_t *p)
{
	for (int i = 0; i < 4; i++)
		if (!isxdigit(p[i]))
			return false;
	return true;
}

/* A device with the first "VID:PID" of the input (so the classes have something to match) and one
 * with ids no class lists. */
static void make_devs(const uint8_t *data, size_t size, ztc_usbdev devs[2], char ids[2][2][5], char uids[2][41])
{
	strcpy(ids[0][0], "2341");
	strcpy(ids[0][1], "003D");
	for (size_t i = 0; i + 9 <= size; i++)
		if (data[i + 4] == ':' && is_hex4(data + i) && is_hex4(data + i + 5)) {
			for (int k = 0; k < 4; k++) {
				ids[0][0][k] = (char)toupper(data[i + k]);
				ids[0][1][k] = (char)toupper(data[i + 5 + k]);
			}
			break;
		}
	strcpy(ids[1][0], "FFFF");
	strcpy(ids[1][1], "0001");
	for (int d = 0; d < 2; d++) {
		memset(&devs[d], 0, sizeof(devs[d]));
		devs[d].vid = ids[d][0];
		devs[d].pid = ids[d][1];
		devs[d].sid = d ? "no_sid" : "SERIAL1";
		ztc_uid_compute(devs[d].vid, devs[d].pid, devs[d].sid, uids[d]);
		devs[d].uid = uids[d];
		devs[d].port = "/dev/ttyACM0";
	}
}

static void match_with(ztc_db *db, ztc_store *store, ztc_usbdev_list *list)
{
	ztc_match_list *ml = NULL;

	if (ztc_match_devices(ctx, db, store, list, &ml) != ZTC_OK)
		return;
	for (size_t i = 0; i < ml->n; i++) {
		FUZZ_CHECK(ml->m[i].t && ml->m[i].target && ml->m[i].classname && ml->m[i].uid);
		FUZZ_CHECK(ml->m[i].class_idx < ztc_target_class_count(ml->m[i].t));
		FUZZ_CHECK(strcmp(ztc_target_class_name(ml->m[i].t, ml->m[i].class_idx), ml->m[i].classname) == 0);
	}
	ztc_match_list_free(ml);
}

/* Every top-level number reads back through ztc_target_get_int as itself when it fits a long, and
 * as the default when it does not (so the normal build, whose UBSan lacks float-cast-overflow, checks
 * the fix of tests/fuzz/crashes/device-json/get-int-double-beyond-long too). */
static void check_numbers(const ztc_target *t, const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	/* The database loaded this text, so the capped parse (the one libztc uses) accepts it too. */
	yajl_val root = ztc_json_parse(text, NULL, 0);

	for (size_t i = 0; root && YAJL_IS_OBJECT(root) && i < YAJL_GET_OBJECT(root)->len; i++) {
		const char *key = YAJL_GET_OBJECT(root)->keys[i];
		yajl_val v = YAJL_GET_OBJECT(root)->values[i];
		long want;

		if (YAJL_IS_INTEGER(v) || !YAJL_IS_DOUBLE(v))
			continue;
		/* yajl_tree_get returns the first of duplicate keys: only check those. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(YAJL_GET_OBJECT(root)->keys[j], key) == 0)
				goto next;
		want = YAJL_GET_DOUBLE(v) >= (double)LONG_MIN && YAJL_GET_DOUBLE(v) < (double)LONG_MAX
			       ? (long)YAJL_GET_DOUBLE(v) : -12345;
		FUZZ_CHECK(ztc_target_get_int(t, key, -12345) == want);
next:;
	}
	yajl_tree_free(root);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ztc_usbdev devs[2];
	ztc_usbdev_list list = { 2, devs };
	char ids[2][2][5], uids[2][41];
	ztc_store *store = NULL;
	ztc_db *db = NULL;
	const ztc_target *t;
	ztc_serial_params sp;

	fuzz_write_file(json_path, data, size);
	if (ztc_db_load(ctx, &db) != ZTC_OK) {
		FUZZ_CHECK(db == NULL);
		FUZZ_CHECK(strchr(ztc_ctx_errmsg(ctx), '\n') == NULL);
		return 0;
	}
	/* The database may hold installed boards too (replay builds): ours is the one in board_dir,
	 * and ZTC_DB_PATH comes first, so its target is never shadowed. */
	t = NULL;
	for (size_t i = 0; i < ztc_db_count(db); i++)
		if (strcmp(ztc_target_get_path(ztc_db_get(db, i)), board_dir) == 0)
			t = ztc_db_get(db, i);
	if (!t) {
		ztc_db_free(db);
		return 0;
	}
	FUZZ_CHECK(ztc_db_find(db, ztc_target_get_id(t)) == t);
	FUZZ_CHECK(*ztc_target_get_id(t) && *ztc_target_get_name(t) && ztc_target_get_type(t));
	check_numbers(t, data, size);
	/* The flash object's rules (flash-check.c): a reason is one line that says it is about the flash object. */
	{
		char why[512];

		if (!ztc_flash_check(ztc_target_json(t), why, sizeof(why))) {
			FUZZ_CHECK(strncmp(why, "flash: ", 7) == 0);
			for (const char *p = why; *p; p++)
				FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		}
	}
	(void)ztc_target_get_str(t, "family_name");
	(void)ztc_target_get_str(t, "virtualizable");
	(void)ztc_target_get_int(t, "reset_after_register", 0);
	(void)ztc_target_get_int(t, "reset_time", 0);
	ztc_target_serial_params(t, &sp);
	for (size_t i = 0; i < ztc_target_class_count(t); i++) {
		/* Allocated: a fixed buffer cut a long "module.Class" (crashes/device-json/long-module-class-name). */
		char *full = ztc_strdup_printf("%s.%s", ztc_target_class_module(t, i), ztc_target_class_name(t, i));

		/* A class names a module file: never a path (issue 11). */
		FUZZ_CHECK(fuzz_plain_identifier(ztc_target_class_module(t, i)));
		FUZZ_CHECK(fuzz_plain_identifier(ztc_target_class_name(t, i)));
		FUZZ_CHECK(ztc_target_class_find(t, ztc_target_class_name(t, i)) == (int)i);
		FUZZ_CHECK(full && ztc_target_class_find(t, full) == (int)i);
		free(full);
	}
	FUZZ_CHECK(ztc_target_class_name(t, ztc_target_class_count(t)) == NULL);
	make_devs(data, size, devs, ids, uids);
	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < ztc_target_class_count(t); i++)
			(void)ztc_target_class_matches(t, i, &devs[d]);
	/* Unknown devices, then the first one stored under an alias with and without a classname. */
	if (ztc_store_load(ctx, &store) == ZTC_OK) {
		ztc_known k = { .alias = "fuzzalias", .uid = uids[0], .target = (char *)ztc_target_get_id(t),
				.chipid = "chip", .remote_id = "remote" };

		match_with(db, store, &list);
		if (ztc_store_put(ctx, store, &k) == ZTC_OK) {
			match_with(db, store, &list);
			if (ztc_target_class_count(t)) {
				k.classname = (char *)ztc_target_class_name(t, 0);
				if (ztc_store_put(ctx, store, &k) == ZTC_OK)
					match_with(db, store, &list);
			}
		}
		ztc_store_free(store);
	}
	ztc_db_free(db);
	return 0;
}
