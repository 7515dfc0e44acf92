/* test-libztc.c: the Check runner of libztc's API, one suite per area: resolvers, alias policy, VM
 * creation (what fails before the backend), known-device store, board database, matching, loader. */
#include "config.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ztc/ztc.h>

static ztc_ctx *ctx;
static char tmp[64];
static char home[128];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh ZTC_HOME, the source tree's database and the built plugins; no backend, no token. */
static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/ztc-test-libztc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(home, sizeof(home), "%s/home", tmp);
	setenv("ZTC_HOME", home, 1);
	setenv("ZTC_DB_PATH", TOP_SRCDIR "/db", 1);
	setenv("ZTC_PLUGIN_PATH", TOP_BUILDDIR "/plugins", 1);
	setenv("ZTC_BACKEND_URL", "http://127.0.0.1:1/v1", 1);
	unsetenv("ZTC_TOKEN");
	unsetenv("ZTC_DEBUG");
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
}

static void teardown(void)
{
	ztc_ctx_free(ctx);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_text(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void join(const char *const *v, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; v && *v; v++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? "," : "", *v);
}

static void expect_candidates(const char *want)
{
	char got[4096];

	join(ztc_ctx_candidates(ctx), got, sizeof(got));
	ck_assert_str_eq(got, want);
}

/* ---- devices, built by hand as discovery would report them ---------------------------------------- */

#define MAXDEV 8
static ztc_usbdev devbuf[MAXDEV];
static char uidbuf[MAXDEV][41];
static ztc_usbdev_list devlist;

static const ztc_usbdev *add_dev(const char *vid, const char *pid, const char *sid, const char *port)
{
	size_t i = devlist.n++;

	ck_assert_uint_lt(i, MAXDEV);
	ck_assert_int_eq(ztc_uid_compute(vid, pid, sid, uidbuf[i]), ZTC_OK);
	devbuf[i] = (ztc_usbdev){ .vid = (char *)vid, .pid = (char *)pid, .sid = (char *)sid, .uid = uidbuf[i],
				  .port = (char *)port };
	devlist.dev = devbuf;
	return &devbuf[i];
}

static void reset_devs(void)
{
	memset(&devlist, 0, sizeof(devlist));
}

/* The Due of tests/data/arduino_due.umockdev (uid df78e458...), the ST-Link of a Nucleo (4fdcb314...). */
static const ztc_usbdev *due(void) { return add_dev("2341", "003D", "75330303035351E0A1C0", "/dev/ttyACM0"); }
static const ztc_usbdev *stlink(void) { return add_dev("0483", "374B", "0671FF485550755187101620", "/dev/ttyACM1"); }

/* ==== resolvers ======================================================================================= */

static const char *const names[] = { "due", "dup", "custom", "nochip" };

START_TEST(resolve_exact_beats_prefix)
{
	static const char *const n2[] = { "du", "due", "dup" };
	size_t idx = 99;

	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "du", n2, 3, &idx), ZTC_OK);
	ck_assert_uint_eq(idx, 0);
	expect_candidates("");
}
END_TEST

START_TEST(resolve_unique_prefix)
{
	size_t idx = 99;

	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "cu", names, 4, &idx), ZTC_OK);
	ck_assert_uint_eq(idx, 2);
}
END_TEST

START_TEST(resolve_ambiguous)
{
	size_t idx = 99;

	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "du", names, 4, &idx), ZTC_ERR_AMBIGUOUS);
	ck_assert_uint_eq(idx, 99);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "'du' matches several aliases: due, dup");
	expect_candidates("due,dup");
}
END_TEST

START_TEST(resolve_not_found)
{
	size_t idx = 99;

	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "zz", names, 4, &idx), ZTC_ERR_NOT_FOUND);
	ck_assert_uint_eq(idx, 99);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'zz'; candidates: due, dup, custom, nochip");
	expect_candidates("due,dup,custom,nochip");
	/* An empty prefix starts no name. */
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "", names, 4, &idx), ZTC_ERR_NOT_FOUND);
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "due", NULL, 0, &idx), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'due' (there are no aliases)");
	expect_candidates("");
	/* A success clears the candidates of the failure before. */
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "zz", names, 4, &idx), ZTC_ERR_NOT_FOUND);
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "no", names, 4, &idx), ZTC_OK);
	expect_candidates("");
}
END_TEST

START_TEST(resolve_long_list_stays_one_line)
{
	static char store[200][48];
	const char *many[200];
	size_t idx;

	for (int i = 0; i < 200; i++) {
		snprintf(store[i], sizeof(store[i]), "board-with-a-rather-long-alias-%03d", i);
		many[i] = store[i];
	}
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "board", many, 200, &idx), ZTC_ERR_AMBIGUOUS);
	ck_assert_ptr_null(strchr(ztc_ctx_errmsg(ctx), '\n'));
	ck_assert_ptr_nonnull(strstr(ztc_ctx_errmsg(ctx), " more)"));
	ck_assert_ptr_nonnull(ztc_ctx_candidates(ctx)[199]);
	ck_assert_ptr_null(ztc_ctx_candidates(ctx)[200]);
}
END_TEST

START_TEST(resolve_store_alias)
{
	char path[256];
	const ztc_known *k = (const ztc_known *)0x1;
	ztc_store *s;

	mkdir(home, 0700);
	snprintf(path, sizeof(path), "%s/devices.json", home);
	write_file(path, "{\"devices\": [{\"alias\": \"due\", \"uid\": \"u1\", \"target\": \"arduino_due\"},"
			 " {\"alias\": \"dup\", \"uid\": \"u2\", \"target\": \"arduino_due\"}]}");
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_int_eq(ztc_store_resolve_alias(ctx, s, "du", &k), ZTC_ERR_AMBIGUOUS);
	ck_assert_ptr_eq(k, (const ztc_known *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "'du' matches several aliases: due, dup");
	ck_assert_int_eq(ztc_store_resolve_alias(ctx, s, "dup", &k), ZTC_OK);
	ck_assert_str_eq(k->uid, "u2");
	ztc_store_free(s);
}
END_TEST

START_TEST(resolve_device_uid)
{
	const ztc_usbdev *d = NULL, *a, *b;

	reset_devs();
	a = due();
	b = stlink();
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "4f", &d), ZTC_OK);
	ck_assert_ptr_eq(d, b);
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, a->uid, &d), ZTC_OK);
	ck_assert_ptr_eq(d, a);
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "0123", &d), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no connected device uid matches '0123'; candidates: "
			 "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429, 4fdcb314426cd95b56e470797a2538176b9ea771");
}
END_TEST

static void store_vm(const char *vmuid, const char *target, const char *chip)
{
	char json[512], *path = NULL;

	snprintf(json, sizeof(json), "{\"bin\": \"QUJDRA==\", \"dev_type\": \"%s\", \"on_chip_id\": \"%s\", "
		 "\"version\": \"r2.6.0\", \"hash_features\": \"h0\", \"rtos\": \"chibi2\"}", target, chip);
	ck_assert_int_eq(ztc_vmstore_save(ctx, vmuid, json, strlen(json), &path), ZTC_OK);
	free(path);
}

START_TEST(resolve_vm_uid)
{
	char *uid = (char *)0x1, *path = (char *)0x1;

	store_vm("abc111", "arduino_due", "CHIP1");
	store_vm("abc222", "arduino_due", "CHIP1");
	store_vm("abd333", "arduino_due", "CHIP2");
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, "arduino_due", "CHIP1", "abc", &uid, &path), ZTC_ERR_AMBIGUOUS);
	ck_assert_ptr_eq(uid, (char *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "'abc' matches several virtual machines of this board: abc111, abc222");
	/* Only the VMs of that chip id count: abd333 is another board's. */
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, "arduino_due", "CHIP1", "abd", &uid, &path), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no virtual machine of this board matches 'abd'; candidates: abc111, abc222");
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, "arduino_due", "CHIP1", "abc2", &uid, &path), ZTC_OK);
	ck_assert_str_eq(uid, "abc222");
	ck_assert_ptr_nonnull(strstr(path, "/vms/arduino_due/CHIP1/abc222_"));
	free(uid);
	free(path);
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, NULL, NULL, "abd", &uid, NULL), ZTC_OK);
	ck_assert_str_eq(uid, "abd333");
	free(uid);
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, "other", NULL, "a", NULL, NULL), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no virtual machine of this board matches 'a' (there are no virtual "
			 "machines of this board)");
}
END_TEST

static Suite *resolvers_suite(void)
{
	Suite *s = suite_create("resolvers");
	TCase *tc = tcase_create("resolvers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, resolve_exact_beats_prefix);
	tcase_add_test(tc, resolve_unique_prefix);
	tcase_add_test(tc, resolve_ambiguous);
	tcase_add_test(tc, resolve_not_found);
	tcase_add_test(tc, resolve_long_list_stays_one_line);
	tcase_add_test(tc, resolve_store_alias);
	tcase_add_test(tc, resolve_device_uid);
	tcase_add_test(tc, resolve_vm_uid);
	suite_add_tcase(s, tc);
	return s;
}

/* ==== alias policy ==================================================================================== */

static ztc_db *db;
static ztc_store *mem;

static void alias_setup(void)
{
	setup();
	ck_assert_int_eq(ztc_db_load(ctx, &db), ZTC_OK);
	ck_assert_int_eq(ztc_store_load(ctx, &mem), ZTC_OK);
	reset_devs();
}

static void alias_teardown(void)
{
	ztc_store_free(mem);
	ztc_db_free(db);
	teardown();
}

/* Put in the in-memory store; the returned entry must be what the store now holds. */
static int put(const char *uid, const char *alias, const char *target, const ztc_alias_opts *o, ztc_known **ret)
{
	return ztc_alias_put(ctx, mem, db, &devlist, uid, alias, target, o, ret);
}

START_TEST(alias_single_class)
{
	ztc_known *k = NULL;

	due();
	ck_assert_int_eq(put("df78", "due", "arduino_due", NULL, &k), ZTC_OK);
	ck_assert_str_eq(k->alias, "due");
	ck_assert_str_eq(k->uid, "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429");
	ck_assert_str_eq(k->target, "arduino_due");
	ck_assert_str_eq(k->classname, "ArduinoDue");
	ck_assert_ptr_null(k->chipid);
	ztc_known_free(k);
	ck_assert_uint_eq(ztc_store_count(mem), 1);
	ck_assert_str_eq(ztc_store_find_alias(mem, "due")->classname, "ArduinoDue");
}
END_TEST

START_TEST(alias_realias_keeps_registration)
{
	ztc_alias_opts o = { .name = "Bench Due", .chipid = "ABCDEF0123", .remote_id = "r-1" };
	ztc_known *k = NULL;

	due();
	ck_assert_int_eq(put("df", "due", "arduino_due", &o, NULL), ZTC_OK);
	/* Same target: chip id, remote id and name stay; the alias changes; a uid has one alias. */
	ck_assert_int_eq(put("df", "due2", "arduino_due", NULL, &k), ZTC_OK);
	ck_assert_str_eq(k->chipid, "ABCDEF0123");
	ck_assert_str_eq(k->remote_id, "r-1");
	ck_assert_str_eq(k->name, "Bench Due");
	ztc_known_free(k);
	ck_assert_uint_eq(ztc_store_count(mem), 1);
	ck_assert_ptr_null(ztc_store_find_alias(mem, "due"));
	/* Another target drops them. */
	ck_assert_int_eq(put("df", "flip", "flipnclick_sam3x", NULL, &k), ZTC_OK);
	ck_assert_ptr_null(k->chipid);
	ck_assert_ptr_null(k->remote_id);
	ck_assert_ptr_null(k->name);
	ck_assert_str_eq(k->classname, "FlipNClickSAM3X");
	ztc_known_free(k);
}
END_TEST

START_TEST(alias_errors)
{
	ztc_known *k = (ztc_known *)0x1;

	due();
	ck_assert_int_eq(put("df", "my due", "arduino_due", NULL, &k), ZTC_ERR_ARG);
	ck_assert_int_eq(put("df", "-x", "arduino_due", NULL, &k), ZTC_ERR_ARG);
	ck_assert_int_eq(put("df", "x", "no_such_board", NULL, &k), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "unknown target 'no_such_board' (see 'ztc device supported')");
	ck_assert_int_eq(put("0123", "x", "arduino_due", NULL, &k), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx),
			 "no connected device uid matches '0123'; candidates: df78e45849d9f7d1c9b29def5b9ffb7bf0b74429");
	ck_assert_int_eq(put("df", "x", "st_nucleof401re", NULL, &k), ZTC_ERR_ARG);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "device 2341:003D does not match any class of st_nucleof401re "
			 "(see 'ztc device discover --matchdb')");
	ck_assert_int_eq(put("df", "x", "arduino_due", &(ztc_alias_opts){ .classname = "Nope" }, &k), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "target arduino_due has no class 'Nope' (its classes: ArduinoDue)");
	ck_assert_ptr_eq(k, (ztc_known *)0x1);
	ck_assert_uint_eq(ztc_store_count(mem), 0);
	ck_assert_int_eq(ztc_alias_valid("ok-alias"), 1);
	ck_assert_int_eq(ztc_alias_valid(""), 0);
	ck_assert_int_eq(ztc_alias_valid("tab\there"), 0);
}
END_TEST

START_TEST(alias_taken)
{
	due();
	stlink();
	ck_assert_int_eq(put("df", "flip", "arduino_due", NULL, NULL), ZTC_OK);
	ck_assert_int_eq(put("4f", "flip", "st_nucleof401re", NULL, NULL), ZTC_ERR_EXISTS);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "alias 'flip' is already used by device df78e45849d9f7d1c9b29def5b9ffb7bf0b74429");
}
END_TEST

/* A target of its own with two classes matching the same device. */
static void two_class_db(void)
{
	char dir[256], path[300];

	snprintf(dir, sizeof(dir), "%s/db/twoclass", tmp);
	snprintf(path, sizeof(path), "%s/db", tmp);
	mkdir(path, 0700);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/device.json", dir);
	write_file(path, "{\"name\": \"Two Class\", \"target\": \"twoclass\", \"type\": \"board\", \"classes\": ["
			 "{\"class\": \"atmel.ModeA\", \"usb\": [\"2341:003D\"]}, {\"class\": \"atmel.ModeB\", \"usb\": [\"2341:003D\"]}]}");
	snprintf(path, sizeof(path), "%s/db:%s/db", tmp, TOP_SRCDIR);
	setenv("ZTC_DB_PATH", path, 1);
	ztc_ctx_free(ctx);
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ztc_db_free(db);
	ck_assert_int_eq(ztc_db_load(ctx, &db), ZTC_OK);
}

START_TEST(alias_classname)
{
	ztc_known *k = NULL;

	two_class_db();
	due();
	ck_assert_int_eq(put("df", "two", "twoclass", NULL, &k), ZTC_ERR_AMBIGUOUS);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "--classname is required: several classes of twoclass match this device: "
			 "ModeA, ModeB");
	ck_assert_int_eq(put("df", "two", "twoclass", &(ztc_alias_opts){ .classname = "atmel.ModeB" }, &k), ZTC_OK);
	ck_assert_str_eq(k->classname, "ModeB");
	ztc_known_free(k);
	/* A class that does not match a device some other class matches. */
	ck_assert_int_eq(put("df", "x", "arduino_due", &(ztc_alias_opts){ .classname = "ArduinoDue" }, NULL), ZTC_OK);
}
END_TEST

START_TEST(alias_board_through_probe)
{
	ztc_known *k = NULL;

	stlink();
	due();
	/* The YARM has no USB: a programmer's uid gets its target and its jtag_class. */
	ck_assert_int_eq(put("4f", "yarm", "acme_yarm", NULL, &k), ZTC_OK);
	ck_assert_str_eq(k->target, "acme_yarm");
	ck_assert_str_eq(k->classname, "AcmeYarm");
	ztc_known_free(k);
	/* A board that is no programmer cannot stand in for it. */
	ck_assert_int_eq(put("df", "y2", "acme_yarm", NULL, NULL), ZTC_ERR_ARG);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "device 2341:003D does not match any class of acme_yarm "
			 "(see 'ztc device discover --matchdb')");
}
END_TEST

START_TEST(alias_file_and_del)
{
	char path[256], *deleted = NULL;
	ztc_known *k = NULL;

	due();
	stlink();
	/* store NULL: devices.json is written under its lock. */
	ck_assert_int_eq(ztc_alias_put(ctx, NULL, db, &devlist, "df", "due", "arduino_due", NULL, &k), ZTC_OK);
	ztc_known_free(k);
	ck_assert_int_eq(ztc_alias_put(ctx, NULL, db, &devlist, "4f", "dup", "st_nucleof401re", NULL, NULL), ZTC_OK);
	snprintf(path, sizeof(path), "%s/devices.json", home);
	ck_assert_ptr_nonnull(strstr(read_text(path), "\"alias\": \"due\""));
	ck_assert_int_eq(ztc_alias_del(ctx, NULL, "du", &deleted), ZTC_ERR_AMBIGUOUS);
	ck_assert_ptr_null(deleted);
	expect_candidates("due,dup");
	ck_assert_int_eq(ztc_alias_del(ctx, NULL, "dup", &deleted), ZTC_OK);
	ck_assert_str_eq(deleted, "dup");
	free(deleted);
	ck_assert_ptr_null(strstr(read_text(path), "\"dup\""));
	ck_assert_int_eq(ztc_alias_del(ctx, NULL, "nothere", NULL), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'nothere'; candidates: due");
	/* In memory. */
	ck_assert_int_eq(put("df", "due", "arduino_due", NULL, NULL), ZTC_OK);
	ck_assert_int_eq(ztc_alias_del(ctx, mem, "d", NULL), ZTC_OK);
	ck_assert_uint_eq(ztc_store_count(mem), 0);
}
END_TEST

static Suite *alias_suite(void)
{
	Suite *s = suite_create("alias policy");
	TCase *tc = tcase_create("alias");

	tcase_add_checked_fixture(tc, alias_setup, alias_teardown);
	tcase_add_test(tc, alias_single_class);
	tcase_add_test(tc, alias_realias_keeps_registration);
	tcase_add_test(tc, alias_errors);
	tcase_add_test(tc, alias_taken);
	tcase_add_test(tc, alias_classname);
	tcase_add_test(tc, alias_board_through_probe);
	tcase_add_test(tc, alias_file_and_del);
	suite_add_tcase(s, tc);
	return s;
}

/* ==== VM creation: everything checked before the backend is asked ==================================== */

START_TEST(vm_create_checks)
{
	char *uid = (char *)0x1, *path = (char *)0x1;
	ztc_known nochip = { .alias = "nochip", .uid = "u1", .target = "arduino_due" };
	ztc_known reg = { .alias = "due", .uid = "u2", .target = "arduino_due", .chipid = "C0FFEE", .remote_id = "dev-1" };
	ztc_known vendor = { .alias = "custom", .uid = "u3", .target = "vendor_board", .chipid = "C1", .remote_id = "dev-2" };
	ztc_store *s;

	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &nochip), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &reg), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &vendor), ZTC_OK);
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "zz", "r2.6.0", "chibi2", NULL, &uid, &path), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'zz'; candidates: custom, due, nochip");
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "no", "r2.6.0", "chibi2", NULL, &uid, &path), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "device nochip is not registered: run 'ztc device register nochip'");
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "due", "", "chibi2", NULL, &uid, &path), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "due", "r2.6.0", "chibi2", &(ztc_vm_create_opts){ .patch = "" },
				       &uid, &path), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "cu", "r2.6.0", "chibi2", NULL, &uid, &path), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "the target 'vendor_board' of custom is not in the board database "
			 "(see 'ztc device supported'); name the VM with --name");
	/* No token: refused before any request. */
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "due", "r2.6.0", "chibi2", NULL, &uid, &path), ZTC_ERR_BACKEND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "not logged in: run 'ztc login'");
	ck_assert_ptr_eq(uid, (char *)0x1);
	ck_assert_ptr_eq(path, (char *)0x1);
	ztc_store_free(s);
}
END_TEST

static Suite *vm_suite(void)
{
	Suite *s = suite_create("vm create");
	TCase *tc = tcase_create("checks");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, vm_create_checks);
	suite_add_tcase(s, tc);
	return s;
}

/* ==== known-device store ============================================================================== */

START_TEST(store_put_find_del_update)
{
	ztc_known a = { .alias = "a", .uid = "ua", .target = "arduino_due" };
	ztc_known b = { .alias = "b", .uid = "ub", .target = "arduino_due", .chipid = "C" };
	ztc_store *s;

	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK); /* no file: empty */
	ck_assert_uint_eq(ztc_store_count(s), 0);
	ck_assert_int_eq(ztc_store_put(ctx, s, &b), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &a), ZTC_OK);
	ck_assert_str_eq(ztc_store_get(s, 0)->alias, "a"); /* alias order */
	ck_assert_str_eq(ztc_store_find_uid(s, "ub")->chipid, "C");
	ck_assert_int_eq(ztc_store_put(ctx, s, &(ztc_known){ .alias = "b", .uid = "ua", .target = "x" }), ZTC_ERR_EXISTS);
	ck_assert_int_eq(ztc_store_del(ctx, s, "a"), ZTC_OK);
	ck_assert_int_eq(ztc_store_del(ctx, s, "a"), ZTC_ERR_NOT_FOUND);
	ck_assert_uint_eq(ztc_store_count(s), 1);
	ztc_store_free(s);
}
END_TEST

static int add_one(ztc_ctx *c, ztc_store *s, void *userdata)
{
	return ztc_store_put(c, s, userdata);
}

static int refuse(ztc_ctx *c, ztc_store *s, void *userdata)
{
	(void)userdata;
	return ztc_store_del(c, s, "no-such-alias"); /* fails: nothing may be written */
}

START_TEST(store_update_writes_or_not)
{
	ztc_known a = { .alias = "a", .uid = "ua", .target = "arduino_due" };
	char path[256], before[4096];
	ztc_store *s;

	ck_assert_int_eq(ztc_store_update(ctx, add_one, &a), ZTC_OK);
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_str_eq(ztc_store_find_alias(s, "a")->uid, "ua");
	ztc_store_free(s);
	snprintf(path, sizeof(path), "%s/devices.json", home);
	memcpy(before, read_text(path), sizeof(before) - 1);
	before[sizeof(before) - 1] = 0;
	ck_assert_int_eq(ztc_store_update(ctx, refuse, NULL), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(read_text(path), before);
	/* A corrupt file is reported, never overwritten. */
	write_file(path, "{\"devices\": [");
	ck_assert_int_eq(ztc_store_update(ctx, add_one, &a), ZTC_ERR_CORRUPT);
	ck_assert_str_eq(read_text(path), "{\"devices\": [");
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, store_put_find_del_update);
	tcase_add_test(tc, store_update_writes_or_not);
	suite_add_tcase(s, tc);
	return s;
}

/* ==== board database and matching ===================================================================== */

START_TEST(db_targets_and_classes)
{
	const ztc_target *t;
	ztc_db *d;

	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_uint_gt(ztc_db_count(d), 40);
	t = ztc_db_find(d, "arduino_due");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(ztc_target_get_name(t), "Arduino Due");
	ck_assert_str_eq(ztc_target_get_type(t), "board");
	ck_assert_uint_eq(ztc_target_class_count(t), 1);
	ck_assert_str_eq(ztc_target_class_module(t, 0), "atmel");
	ck_assert_int_eq(ztc_target_class_find(t, "atmel.ArduinoDue"), 0);
	ck_assert_int_eq(ztc_target_class_find(t, "ArduinoDue"), 0);
	ck_assert_int_eq(ztc_target_class_find(t, "dfu.ArduinoDue"), -1);
	reset_devs();
	ck_assert_int_eq(ztc_target_class_matches(t, 0, due()), 1);
	ck_assert_int_eq(ztc_target_class_matches(t, 0, stlink()), 0);
	ck_assert_ptr_null(ztc_db_find(d, "no_such_board"));
	ztc_db_free(d);
}
END_TEST

START_TEST(match_alias_pins_target)
{
	ztc_known pin = { .alias = "flip", .uid = "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429", .target = "flipnclick_sam3x",
			  .classname = "FlipNClickSAM3X" };
	ztc_match_list *ml;
	ztc_store *s;
	ztc_db *d;

	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	reset_devs();
	due();
	/* Unknown: once per target whose class matches (the Due and the Flip&Click share 2341:003D). */
	ck_assert_int_eq(ztc_match_devices(ctx, d, s, &devlist, &ml), ZTC_OK);
	ck_assert_uint_eq(ml->n, 2);
	ck_assert_str_eq(ml->m[0].target, "arduino_due");
	ck_assert_str_eq(ml->m[1].target, "flipnclick_sam3x");
	ztc_match_list_free(ml);
	/* Aliased: its stored target only. */
	ck_assert_int_eq(ztc_store_put(ctx, s, &pin), ZTC_OK);
	ck_assert_int_eq(ztc_match_devices(ctx, d, s, &devlist, &ml), ZTC_OK);
	ck_assert_uint_eq(ml->n, 1);
	ck_assert_str_eq(ml->m[0].alias, "flip");
	ck_assert_str_eq(ml->m[0].classname, "FlipNClickSAM3X");
	ck_assert_str_eq(ml->m[0].port, "/dev/ttyACM0");
	ztc_match_list_free(ml);
	ck_assert_uint_eq(ztc_plugin_loaded_count(ctx), 0); /* matching is pure data */
	ztc_store_free(s);
	ztc_db_free(d);
}
END_TEST

static Suite *db_suite(void)
{
	Suite *s = suite_create("db and match");
	TCase *tc = tcase_create("db");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, db_targets_and_classes);
	tcase_add_test(tc, match_alias_pins_target);
	suite_add_tcase(s, tc);
	return s;
}

/* ==== loader ========================================================================================== */

START_TEST(loader_caches_by_file)
{
	const ztc_class_desc *c1, *c2;
	ztc_db *d;

	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_int_eq(ztc_plugin_resolve(ctx, ztc_db_find(d, "arduino_due"), 0, &c1), ZTC_OK);
	ck_assert_str_eq(c1->name, "ArduinoDue");
	ck_assert_int_eq(ztc_plugin_resolve(ctx, ztc_db_find(d, "flipnclick_sam3x"), 0, &c2), ZTC_OK);
	ck_assert_str_eq(c2->name, "FlipNClickSAM3X");
	ck_assert_uint_eq(ztc_plugin_loaded_count(ctx), 1); /* one file, atmel, loaded once */
	ck_assert_int_eq(ztc_plugin_resolve(ctx, ztc_db_find(d, "particle_photon"), 0, &c2), ZTC_OK);
	ck_assert_uint_eq(ztc_plugin_loaded_count(ctx), 2);
	ztc_db_free(d);
}
END_TEST

START_TEST(loader_default_class)
{
	char dir[256], path[300];
	const ztc_class_desc *c;
	ztc_db *d;

	snprintf(path, sizeof(path), "%s/db", tmp);
	mkdir(path, 0700);
	snprintf(dir, sizeof(dir), "%s/db/acme_due_clone", tmp);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/device.json", dir);
	write_file(path, "{\"name\": \"Acme Due Clone\", \"target\": \"acme_due_clone\", \"type\": \"board\", "
			 "\"classes\": [{\"class\": \"atmel.AcmeDueClone\", \"usb\": [\"1209:2DC1\"]}], "
			 "\"flash\": {\"method\": \"tool\", \"tool\": \"bossac\", \"args\": [\"{file}\"]}}");
	snprintf(path, sizeof(path), "%s/db", tmp);
	setenv("ZTC_DB_PATH", path, 1);
	ztc_ctx_free(ctx);
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_int_eq(ztc_plugin_resolve(ctx, ztc_db_find(d, "acme_due_clone"), 0, &c), ZTC_OK);
	ck_assert_str_eq(c->name, "ArduinoDue"); /* atmel's default class */
	ztc_db_free(d);
}
END_TEST

START_TEST(loader_refusals)
{
	const ztc_plugin_desc *pd = (const ztc_plugin_desc *)0x1;
	char path[256];

	snprintf(path, sizeof(path), "%s/junk.so", tmp);
	write_file(path, "not an ELF file");
	ck_assert_int_eq(ztc_plugin_open(ctx, path, &pd), ZTC_ERR_PLUGIN);
	ck_assert_ptr_eq(pd, (const ztc_plugin_desc *)0x1);
	ck_assert_ptr_nonnull(strstr(ztc_ctx_errmsg(ctx), "cannot be loaded"));
	ck_assert_uint_eq(ztc_plugin_loaded_count(ctx), 0);
	ck_assert_int_eq(ztc_plugin_open(ctx, TOP_BUILDDIR "/plugins/esp/esp.la", &pd), ZTC_OK);
	ck_assert_str_eq(pd->module, "esp");
	ck_assert_uint_eq(pd->abi_major, ZTC_PLUGIN_ABI_MAJOR);
	ck_assert_str_eq(pd->default_class, "Esp32DevKitC");
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, loader_caches_by_file);
	tcase_add_test(tc, loader_default_class);
	tcase_add_test(tc, loader_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resolvers_suite());
	int failed;

	srunner_add_suite(sr, alias_suite());
	srunner_add_suite(sr, vm_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, db_suite());
	srunner_add_suite(sr, loader_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
