/* test-match.c: ztc_match_devices() against a brute-force oracle (every class of every target asked with
 * ztc_target_class_matches()), on a generated database with shared, repeated and serial-bound USB ids. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ztc/ztc.h>

#include "../common/check-util.h"

static ztc_ctx *ctx;
static char tmp[64];

static void board(const char *db, const char *target, const char *classes)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", db, target);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/device.json", db, target);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"name\": \"Board %s\", \"target\": \"%s\", \"type\": \"board\", \"classes\": [%s]}\n", target,
		target, classes);
	ck_assert_int_eq(fclose(f), 0);
}

/* A database of its own (the built-in one is searched after it: the oracle covers both). */
static void setup(void)
{
	char db[128], name[32], classes[256];

	snprintf(tmp, sizeof(tmp), "/tmp/ztc-test-match.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(db, sizeof(db), "%s/db", tmp);
	ck_assert_int_eq(mkdir(db, 0700), 0);
	/* One id listed twice by one class; by two classes of one target; by two targets; bound to a serial. */
	board(db, "twice", "{\"class\": \"m.Twice\", \"usb\": [\"1234:0001\", \"1234:0001\"]}");
	board(db, "two_classes", "{\"class\": \"m.A\", \"usb\": [\"1234:0001\"]}, "
				 "{\"class\": \"m.B\", \"usb\": [\"1234:0002\", \"1234:0001\"]}");
	board(db, "bound", "{\"class\": \"m.Bound\", \"usb\": [\"1234:0001\"], \"sid\": \"ABC\"}");
	/* Enough others that the index's table grows and its slots collide. */
	for (int i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "gen_%04d", i);
		snprintf(classes, sizeof(classes), "{\"class\": \"g%d.Board\", \"usb\": [\"%04X:%04X\", \"%04X:%04X\"]}",
			 i % 5, 0xA000 + i % 97, i % 13, 0xB000 + i % 11, i % 7);
		board(db, name, classes);
	}
	setenv("ZTC_HOME", tmp, 1);
	setenv("ZTC_DB_PATH", db, 1);
	setenv("XDG_CACHE_HOME", "/dev/null", 1);
	unsetenv("ZTC_DEBUG");
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
}

static void teardown(void)
{
	ztc_ctx_free(ctx);
	check_rm_tree(tmp);
}

static bool in_matches(const ztc_match_list *ml, const ztc_usbdev *d, const ztc_target *t, size_t c)
{
	for (size_t i = 0; i < ml->n; i++)
		if (ml->m[i].dev == d && ml->m[i].t == t && ml->m[i].class_idx == c)
			return true;
	return false;
}

/* The uids of devs (kept here, so they outlive the call). */
static void set_uids(ztc_usbdev *devs, size_t n)
{
	static char uid[64][41];

	ck_assert_uint_le(n, 64);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(ztc_uid_compute(devs[i].vid, devs[i].pid, devs[i].sid, uid[i]), ZTC_OK);
		devs[i].uid = uid[i];
	}
}

/* What matching must give for devs: each (device, target, class) that ztc_target_class_matches()
 * accepts, once, and nothing else. */
static void check_against_oracle(const ztc_db *db, ztc_usbdev *devs, size_t n)
{
	ztc_usbdev_list list = { n, devs };
	ztc_match_list *ml;
	ztc_store *s;
	size_t want = 0;

	set_uids(devs, n);
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_int_eq(ztc_match_devices(ctx, db, s, &list, &ml), ZTC_OK);
	for (size_t d = 0; d < n; d++)
		for (size_t i = 0; i < ztc_db_count(db); i++)
			for (size_t c = 0; c < ztc_target_class_count(ztc_db_get(db, i)); c++)
				if (ztc_target_class_matches(ztc_db_get(db, i), c, &devs[d])) {
					want++;
					ck_assert_msg(in_matches(ml, &devs[d], ztc_db_get(db, i), c), "%s:%s missing %s",
						      devs[d].vid, devs[d].pid, ztc_target_get_id(ztc_db_get(db, i)));
				}
	ck_assert_uint_eq(ml->n, want);
	ztc_match_list_free(ml);
	ztc_store_free(s);
}

START_TEST(shared_repeated_and_bound_ids)
{
	ztc_usbdev devs[] = {
		{ .vid = "1234", .pid = "0001", .sid = "ABC" },    /* twice, two_classes.A and .B, bound */
		{ .vid = "1234", .pid = "0001", .sid = "OTHER" },  /* twice, two_classes.A and .B */
		{ .vid = "1234", .pid = "0002", .sid = "no_sid" }, /* two_classes.B */
		{ .vid = "1234", .pid = "0003", .sid = "no_sid" }, /* nothing */
		{ .vid = "1234", .pid = "00011", .sid = "no_sid" }, /* not a 4-digit PID: nothing */
		{ .vid = "12345", .pid = "0001", .sid = "no_sid" }, /* not a 4-digit VID: nothing */
		{ .vid = "abcd", .pid = "0001", .sid = "no_sid" },  /* ids are upper-case: nothing */
	};
	ztc_match_list *ml;
	ztc_store *s;
	ztc_db *db;
	ztc_usbdev_list one = { 1, devs };

	ck_assert_int_eq(ztc_db_load(ctx, &db), ZTC_OK);
	check_against_oracle(db, devs, sizeof(devs) / sizeof(devs[0]));
	/* The figures the oracle must agree with, spelled out for the first device (its uid set above). */
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_int_eq(ztc_match_devices(ctx, db, s, &one, &ml), ZTC_OK);
	ck_assert_uint_eq(ml->n, 4);
	ck_assert_str_eq(ml->m[0].target, "bound");
	ck_assert_str_eq(ml->m[1].target, "twice");
	ck_assert_str_eq(ml->m[2].target, "two_classes");
	ck_assert_str_eq(ml->m[2].classname, "A");
	ck_assert_str_eq(ml->m[3].target, "two_classes");
	ck_assert_str_eq(ml->m[3].classname, "B");
	ztc_match_list_free(ml);
	ztc_store_free(s);
	ztc_db_free(db);
}
END_TEST

START_TEST(generated_ids)
{
	ztc_usbdev devs[64];
	char ids[64][2][5];
	ztc_db *db;

	ck_assert_int_eq(ztc_db_load(ctx, &db), ZTC_OK);
	/* Ids of the generated boards, ids no board lists, and the built-in database's Due. */
	for (int i = 0; i < 64; i++) {
		snprintf(ids[i][0], 5, "%04X", i % 3 == 2 ? 0x2341 : (i % 2 ? 0xA000 : 0xB000) + i % 101);
		snprintf(ids[i][1], 5, "%04X", i % 3 == 2 ? 0x003D : i % 14);
		devs[i] = (ztc_usbdev){ .vid = ids[i][0], .pid = ids[i][1], .sid = "no_sid" };
	}
	check_against_oracle(db, devs, 64);
	ztc_db_free(db);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { shared_repeated_and_bound_ids, generated_ids, NULL };
	TCase *tc = check_tcase("index", setup, teardown, tests);

	tcase_set_timeout(tc, 60); /* 1,500 board folders written per test */
	return check_run(check_suite("match", tc, NULL), NULL);
}
