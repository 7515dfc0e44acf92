/* test-json.c: Check suite: the depth-capped JSON parse of libztc (json.c) and every place that parses
 * untrusted JSON through it: store, board database, firmware (.vm) files, the VM store. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "internal.h"
#include "ztc/backend.h"
#include "ztc/firmware.h"

#include "../common/check-util.h"

#define HUGE_DEPTH 300000

static char tmpdir[] = "/tmp/ztc-test-json.XXXXXX";
static ztc_ctx *ctx;
static char logbuf[8192];

static void log_to_buf(void *userdata, int level, const char *msg)
{
	size_t n = strlen(logbuf);

	(void)userdata;
	(void)level;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

/* "[" x depth, an optional inner text, "]" x depth (a NUL-terminated malloc()ed string). */
static char *nested(size_t depth, const char *inner)
{
	size_t il = strlen(inner);
	char *s = malloc(2 * depth + il + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, '[', depth);
	memcpy(s + depth, inner, il);
	memset(s + depth + il, ']', depth);
	s[2 * depth + il] = '\0';
	return s;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static char *path_in(const char *a, const char *b)
{
	char *p = ztc_strdup_printf("%s/%s%s%s", tmpdir, a, b ? "/" : "", b ? b : "");

	ck_assert_ptr_nonnull(p);
	return p;
}

static void setup(void)
{
	char *home = path_in("home", NULL);

	mkdir(home, 0700);
	setenv("ZTC_HOME", home, 1);
	free(home);
	logbuf[0] = '\0';
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ztc_ctx_set_log(ctx, log_to_buf, NULL);
	ztc_ctx_set_loglevel(ctx, ZTC_LOG_WARN);
}

static void teardown(void)
{
	ztc_ctx_free(ctx);
}

/* ---- the helper ------------------------------------------------------------------------------------ */

static void expect_refused(const char *text, const char *msg)
{
	char err[256] = "sentinel";

	ck_assert_ptr_null(ztc_json_parse(text, err, sizeof(err)));
	ck_assert_str_eq(err, msg);
}

START_TEST(depth_limit)
{
	char *ok = nested(ZTC_JSON_MAX_DEPTH, ""), *deep = nested(ZTC_JSON_MAX_DEPTH + 1, "");
	char err[256] = "";
	yajl_val v = ztc_json_parse(ok, err, sizeof(err));
	size_t depth = 0;

	ck_assert_int_eq(ZTC_JSON_MAX_DEPTH, 64);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(err, "");
	for (yajl_val p = v; YAJL_IS_ARRAY(p); p = YAJL_GET_ARRAY(p)->len ? YAJL_GET_ARRAY(p)->values[0] : NULL)
		depth++;
	ck_assert_uint_eq(depth, ZTC_JSON_MAX_DEPTH);
	yajl_tree_free(v);
	expect_refused(deep, "nested deeper than 64 levels");
	free(ok);
	free(deep);
}
END_TEST

START_TEST(huge_depth)
{
	/* Closed and unclosed: yajl_tree_parse() crashes (stack overflow) on the closed one. */
	char *closed = nested(HUGE_DEPTH, ""), *open = strdup(closed);

	ck_assert_ptr_nonnull(open);
	open[HUGE_DEPTH] = '\0';
	expect_refused(closed, "nested deeper than 64 levels");
	expect_refused(open, "nested deeper than 64 levels");
	free(closed);
	free(open);
}
END_TEST

START_TEST(objects_count_too)
{
	char text[1024] = "", *p = text;
	char err[256];
	yajl_val v;

	/* 32 objects around 32 arrays = 64 levels; one more object is too deep. */
	for (int i = 0; i < 32; i++)
		p += sprintf(p, "{\"k\":[");
	p += sprintf(p, "1");
	for (int i = 0; i < 32; i++)
		p += sprintf(p, "]}");
	v = ztc_json_parse(text, err, sizeof(err));
	ck_assert_ptr_nonnull(v);
	yajl_tree_free(v);
	memmove(text + 5, text, strlen(text) + 1);
	memcpy(text, "{\"k\":", 5);
	strcat(text, "}");
	expect_refused(text, "nested deeper than 64 levels");
}
END_TEST

START_TEST(brackets_in_strings_and_comments)
{
	char *brackets = nested(1, "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[\"");
	char *hidden = nested(ZTC_JSON_MAX_DEPTH + 1, "");
	char *commented = ztc_strdup_printf("/* \" */ %s", hidden);
	char err[256];
	yajl_val v;

	/* Brackets inside a string (even after an escaped quote) are no nesting. */
	v = ztc_json_parse(brackets, err, sizeof(err));
	ck_assert_ptr_nonnull(v);
	ck_assert(YAJL_IS_ARRAY(v) && YAJL_GET_ARRAY(v)->len == 1 && YAJL_IS_STRING(YAJL_GET_ARRAY(v)->values[0]));
	yajl_tree_free(v);
	/* yajl_tree_parse() allows comments: a quote inside one must not hide the nesting after it. */
	expect_refused(commented, "nested deeper than 64 levels");
	free(brackets);
	free(hidden);
	free(commented);
}
END_TEST

START_TEST(other_errors)
{
	char err[4], *deep = nested(1000, "");

	/* yajl's own message, its first line only. */
	expect_refused("{\"a\": ", "parse error: premature EOF");
	expect_refused("{\"a\": 1} x", "parse error: trailing garbage");
	expect_refused("", "parse error: premature EOF");
	/* A small buffer is cut, never overrun; no buffer at all is fine too. */
	ck_assert_ptr_null(ztc_json_parse(deep, err, sizeof(err)));
	ck_assert_str_eq(err, "nes");
	free(deep);
	ck_assert_ptr_null(ztc_json_parse("[", NULL, 0));
	ck_assert_ptr_null(ztc_json_parse(NULL, err, sizeof(err)));
}
END_TEST

/* ---- the places that parse untrusted JSON ---------------------------------------------------------- */

START_TEST(store_too_deep)
{
	char *path = path_in("home", "devices.json"), *deep = nested(HUGE_DEPTH, "");
	ztc_store *s = (ztc_store *)0x1;
	char *want = ztc_strdup_printf("%s is corrupt (invalid JSON: nested deeper than 64 levels); it was left "
				       "untouched: fix or remove it", path);

	write_file(path, deep);
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_ERR_CORRUPT);
	ck_assert_ptr_eq(s, (ztc_store *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), want);
	unlink(path);
	free(path);
	free(deep);
	free(want);
}
END_TEST

START_TEST(device_json_too_deep)
{
	char *db = path_in("db", NULL), *deep = path_in("db", "deep"), *good = path_in("db", "good");
	char *deepjson = path_in("db", "deep/device.json"), *goodjson = path_in("db", "good/device.json");
	char *text = nested(HUGE_DEPTH, ""), *want;
	ztc_db *d = NULL;

	ck_assert_int_eq(mkdir(db, 0700) == 0 || errno == EEXIST, 1);
	ck_assert_int_eq(mkdir(deep, 0700) == 0 || errno == EEXIST, 1);
	ck_assert_int_eq(mkdir(good, 0700) == 0 || errno == EEXIST, 1);
	write_file(deepjson, text);
	write_file(goodjson, "{\"name\": \"Good\", \"target\": \"good_board\", \"type\": \"board\", "
			     "\"classes\": [{\"class\": \"sim.Good\", \"usb\": [\"1209:0001\"]}]}");
	setenv("ZTC_DB_PATH", db, 1);
	ztc_ctx_free(ctx);
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ztc_ctx_set_log(ctx, log_to_buf, NULL);
	ztc_ctx_set_loglevel(ctx, ZTC_LOG_WARN);
	/* The other boards still load; the deep one is skipped with the usual warning naming it. */
	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_ptr_nonnull(ztc_db_find(d, "good_board"));
	want = ztc_strdup_printf("%s: invalid JSON: nested deeper than 64 levels; board skipped\n", deepjson);
	ck_assert_str_eq(logbuf, want);
	ztc_db_free(d);
	unsetenv("ZTC_DB_PATH");
	free(db);
	free(deep);
	free(good);
	free(deepjson);
	free(goodjson);
	free(text);
	free(want);
}
END_TEST

START_TEST(firmware_too_deep)
{
	char *deep = nested(HUGE_DEPTH, ""), *obj = ztc_strdup_printf("{\"bin\": \"QUJD\", \"x\": %s}", deep);
	ztc_firmware *fw = (ztc_firmware *)0x1;

	ck_assert_int_eq(ztc_firmware_parse(ctx, "t.vm", obj, strlen(obj), &fw), ZTC_ERR_PARSE);
	ck_assert_ptr_eq(fw, (ztc_firmware *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "t.vm: invalid JSON: nested deeper than 64 levels");
	free(deep);
	free(obj);
}
END_TEST

START_TEST(vmstore_too_deep)
{
	char *deep = nested(HUGE_DEPTH, ""), *vms = path_in("home", "vms");
	char *obj = ztc_strdup_printf("{\"dev_type\": \"t\", \"on_chip_id\": \"c\", \"version\": \"v\", \"hash_features\": "
				      "\"h\", \"rtos\": \"r\", \"bin\": \"QUJD\", \"x\": %s}", deep);
	char *path = (char *)0x1;
	struct stat st;

	ck_assert_int_eq(ztc_vmstore_save(ctx, "vm1", obj, strlen(obj), &path), ZTC_ERR_PARSE);
	ck_assert_ptr_eq(path, (char *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "cannot store VM vm1: nested deeper than 64 levels");
	ck_assert_int_eq(stat(vms, &st), -1); /* nothing written */
	free(deep);
	free(obj);
	free(vms);
}
END_TEST

int main(void)
{
	const TTest *const helper[] = { depth_limit, huge_depth, objects_count_too, brackets_in_strings_and_comments,
					other_errors, NULL };
	const TTest *const sites[] = { store_too_deep, device_json_too_deep, firmware_too_deep, vmstore_too_deep,
				       NULL };
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	rc = check_run(check_suite("json", check_tcase("helper", setup, teardown, helper),
				   check_tcase("sites", setup, teardown, sites), NULL),
		       NULL);
	check_rm_tree(tmpdir);
	return rc;
}
