/* test-firmware.c: Check suite: .vm / register.vm parsing (every error message exactly), file loading and
 * size limit, image padding. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ztc/ztc.h>
#include <ztc/plugin.h>

#include "../common/check-util.h"

static ztc_ctx *ctx;
static char tmpdir[] = "/tmp/ztc-test-firmware.XXXXXX";

static void setup(void)
{
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
}

static void teardown(void)
{
	ztc_ctx_free(ctx);
}

/* Parse text as "t.vm"; the sentinel proves *ret is untouched on failure. */
static int parse(const char *text, ztc_firmware **ret)
{
	*ret = (ztc_firmware *)0x1;
	return ztc_firmware_parse(ctx, "t.vm", text, strlen(text), ret);
}

static void expect_error(const char *text, int err, const char *msg)
{
	ztc_firmware *fw;

	ck_assert_int_eq(parse(text, &fw), err);
	ck_assert_ptr_eq(fw, (ztc_firmware *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), msg);
}

START_TEST(string_bin)
{
	/* "QUJDRA==" is "ABCD"; the old Zerynth format's keys are readable. */
	ztc_firmware *fw;
	const ztc_image *img;

	ck_assert_int_eq(parse("{\"bin\": \"QUJDRA==\", \"type\": \"vm\", \"vmstore\": 130048, \"on_chip_id\": "
			       "\"xxx\", \"rodata_in_ram\": true, \"size\": \"odd\"}", &fw), ZTC_OK);
	ck_assert_uint_eq(ztc_firmware_image_count(fw), 1);
	img = ztc_firmware_image(fw, 0);
	ck_assert_uint_eq(img->len, 4);
	ck_assert_mem_eq(img->data, "ABCD", 4);
	ck_assert_ptr_null(img->loc);
	ck_assert_ptr_null(ztc_firmware_image(fw, 1));
	ck_assert_str_eq(ztc_firmware_get_str(fw, "type"), "vm");
	ck_assert_str_eq(ztc_firmware_get_str(fw, "on_chip_id"), "xxx");
	ck_assert_ptr_null(ztc_firmware_get_str(fw, "vmstore"));
	ck_assert_ptr_null(ztc_firmware_get_str(fw, "absent"));
	ck_assert_int_eq(ztc_firmware_get_int(fw, "vmstore", -1), 130048);
	ck_assert_int_eq(ztc_firmware_get_int(fw, "rodata_in_ram", -1), 1);
	ck_assert_int_eq(ztc_firmware_get_int(fw, "size", -1), -1);
	ck_assert_int_eq(ztc_firmware_get_int(fw, "absent", 7), 7);
	ztc_firmware_free(fw);
}
END_TEST

START_TEST(list_bin_with_loc)
{
	/* Two parts, as ESP VMs have four: "QUJD" = "ABC", "eHl6MTIz" = "xyz123". */
	ztc_firmware *fw;
	const ztc_image *img;

	ck_assert_int_eq(parse("{\"bin\": [\"QUJD\", \"eHl6MTIz\"], \"loc\": [\"0x390000\", \"0x1000\"]}", &fw),
			 ZTC_OK);
	ck_assert_uint_eq(ztc_firmware_image_count(fw), 2);
	img = ztc_firmware_image(fw, 0);
	ck_assert_uint_eq(img[0].len, 3);
	ck_assert_mem_eq(img[0].data, "ABC", 3);
	ck_assert_str_eq(img[0].loc, "0x390000");
	/* Contiguous: the array a burn callback receives. */
	ck_assert_ptr_eq(&img[1], ztc_firmware_image(fw, 1));
	ck_assert_uint_eq(img[1].len, 6);
	ck_assert_mem_eq(img[1].data, "xyz123", 6);
	ck_assert_str_eq(img[1].loc, "0x1000");
	ztc_firmware_free(fw);

	ck_assert_int_eq(parse("{\"bin\": [\"QUJD\"]}", &fw), ZTC_OK);
	ck_assert_uint_eq(ztc_firmware_image_count(fw), 1);
	ck_assert_ptr_null(ztc_firmware_image(fw, 0)->loc);
	ztc_firmware_free(fw);
	ztc_firmware_free(NULL);
}
END_TEST

START_TEST(invalid_json)
{
	expect_error("{\"bin\": ", ZTC_ERR_PARSE, "t.vm: invalid JSON: parse error: premature EOF");
	expect_error("", ZTC_ERR_PARSE, "t.vm: invalid JSON: parse error: premature EOF");
	expect_error("{\"bin\": \"QUJD\"} x", ZTC_ERR_PARSE, "t.vm: invalid JSON: parse error: trailing garbage");
	expect_error("{bin}", ZTC_ERR_PARSE, "t.vm: invalid JSON: lexical error: invalid char in json text.");
	{
		ztc_firmware *fw = (ztc_firmware *)0x1;

		ck_assert_int_eq(ztc_firmware_parse(ctx, "t.vm", "{\"bin\": \"QU\0JD\"}", 16, &fw), ZTC_ERR_PARSE);
		ck_assert_str_eq(ztc_ctx_errmsg(ctx), "t.vm: invalid JSON: it contains a NUL byte");
		ck_assert_ptr_eq(fw, (ztc_firmware *)0x1);
	}
}
END_TEST

START_TEST(not_a_firmware)
{
	expect_error("[1, 2]", ZTC_ERR_PARSE, "t.vm: not a JSON object: not a firmware file");
	expect_error("\"QUJD\"", ZTC_ERR_PARSE, "t.vm: not a JSON object: not a firmware file");
	expect_error("{\"type\": \"vm\", \"size\": 1}", ZTC_ERR_PARSE, "t.vm: no \"bin\": not a firmware file");
}
END_TEST

START_TEST(bin_wrong_type)
{
	const char *msg = "t.vm: \"bin\" must be a base64 string or a list of base64 strings";

	expect_error("{\"bin\": 3}", ZTC_ERR_PARSE, msg);
	expect_error("{\"bin\": {\"a\": \"QUJD\"}}", ZTC_ERR_PARSE, msg);
	expect_error("{\"bin\": null}", ZTC_ERR_PARSE, msg);
	expect_error("{\"bin\": [\"QUJD\", 5]}", ZTC_ERR_PARSE, "t.vm: bin[1] is not a base64 string");
	expect_error("{\"bin\": []}", ZTC_ERR_PARSE, "t.vm: \"bin\" is an empty list: there is no image to flash");
	expect_error("{\"bin\": \"\"}", ZTC_ERR_PARSE, "t.vm: \"bin\" is empty: there is no image to flash");
	expect_error("{\"bin\": [\"QUJD\", \"\"]}", ZTC_ERR_PARSE, "t.vm: bin[1] is empty: there is no image to flash");
}
END_TEST

START_TEST(bad_base64)
{
	expect_error("{\"bin\": \"not base64!\"}", ZTC_ERR_PARSE, "t.vm: \"bin\" is not valid base64");
	expect_error("{\"bin\": \"Q\"}", ZTC_ERR_PARSE, "t.vm: \"bin\" is not valid base64");
	/* Unpadded: what no Zerynth tool wrote. */
	expect_error("{\"bin\": \"QUJDRA\"}", ZTC_ERR_PARSE, "t.vm: \"bin\" is not valid base64");
	expect_error("{\"bin\": [\"QUJD\", \"QUJD\", \"@@@@\"]}", ZTC_ERR_PARSE, "t.vm: bin[2] is not valid base64");
}
END_TEST

START_TEST(loc_mismatch)
{
	expect_error("{\"bin\": [\"QUJD\", \"QUJD\"], \"loc\": [\"0x1000\"]}", ZTC_ERR_PARSE,
		     "t.vm: \"loc\" has 1 address for 2 images");
	expect_error("{\"bin\": \"QUJD\", \"loc\": [\"0x1000\", \"0x2000\"]}", ZTC_ERR_PARSE,
		     "t.vm: \"loc\" has 2 addresses for 1 image");
	expect_error("{\"bin\": [\"QUJD\"], \"loc\": \"0x1000\"}", ZTC_ERR_PARSE,
		     "t.vm: \"loc\" must be a list of hexadecimal addresses");
	expect_error("{\"bin\": [\"QUJD\", \"QUJD\"], \"loc\": [\"0x1000\", \"4096\"]}", ZTC_ERR_PARSE,
		     "t.vm: loc[1] is not a hexadecimal address like \"0x1000\"");
	expect_error("{\"bin\": [\"QUJD\"], \"loc\": [16]}", ZTC_ERR_PARSE,
		     "t.vm: loc[0] is not a hexadecimal address like \"0x1000\"");
}
END_TEST

static char *write_file(const char *name, const char *text)
{
	char *path = malloc(strlen(tmpdir) + strlen(name) + 2);
	FILE *f;

	sprintf(path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(load_files)
{
	ztc_firmware *fw = (ztc_firmware *)0x1;
	char *ok = write_file("ok.vm", "{\"bin\": \"QUJDRA==\"}\n");
	char *bad = write_file("bad.vm", "{\"bin\": \"QUJDRA==\"");
	char *missing = write_file("gone.vm", "");
	char *big, msg[512];
	int fd;

	ck_assert_int_eq(ztc_firmware_load(ctx, ok, &fw), ZTC_OK);
	ck_assert_uint_eq(ztc_firmware_image(fw, 0)->len, 4);
	ztc_firmware_free(fw);

	fw = (ztc_firmware *)0x1;
	ck_assert_int_eq(ztc_firmware_load(ctx, bad, &fw), ZTC_ERR_PARSE);
	snprintf(msg, sizeof(msg), "%s: invalid JSON: parse error: premature EOF", bad);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), msg);
	ck_assert_ptr_eq(fw, (ztc_firmware *)0x1);

	unlink(missing);
	ck_assert_int_eq(ztc_firmware_load(ctx, missing, &fw), ZTC_ERR_NOT_FOUND);
	snprintf(msg, sizeof(msg), "%s: no such firmware file", missing);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), msg);

	/* One byte over the limit (a sparse file: nothing is really written). */
	big = write_file("big.vm", "");
	fd = open(big, O_WRONLY);
	ck_assert_int_eq(ftruncate(fd, ZTC_FIRMWARE_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_int_eq(ztc_firmware_load(ctx, big, &fw), ZTC_ERR_PARSE);
	snprintf(msg, sizeof(msg), "%s: larger than 64 MiB: not a firmware file", big);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), msg);
	ck_assert_ptr_eq(fw, (ztc_firmware *)0x1);
	ck_assert_int_eq(ztc_firmware_parse(ctx, "huge", "{}", ZTC_FIRMWARE_MAX_BYTES + 1, &fw), ZTC_ERR_PARSE);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "huge: larger than 64 MiB: not a firmware file");
	unlink(big);

	/* The ztc_sim registration firmware of the database parses. */
	{
		const char *top = getenv("top_srcdir");
		char path[4096];

		snprintf(path, sizeof(path), "%s/db/ztc_sim/register.vm", top && *top ? top : TOP_SRCDIR);
		ck_assert_int_eq(ztc_firmware_load(ctx, path, &fw), ZTC_OK);
		ck_assert_uint_eq(ztc_firmware_image(fw, 0)->len, 512);
		ck_assert_str_eq(ztc_firmware_get_str(fw, "on_chip_id"), "xxx");
		ck_assert_int_eq(ztc_firmware_get_int(fw, "vmstore", 0), 256);
		ztc_firmware_free(fw);
	}
	unlink(ok);
	unlink(bad);
	free(ok);
	free(bad);
	free(missing);
	free(big);
}
END_TEST

START_TEST(image_pad)
{
	unsigned char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(ztc_image_pad((const unsigned char *)"abc", 3, 8, &out, &len), ZTC_OK);
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(out, "abc\0\0\0\0\0", 8);
	free(out);
	/* Never truncates. */
	ck_assert_int_eq(ztc_image_pad((const unsigned char *)"abcdef", 6, 2, &out, &len), ZTC_OK);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(out, "abcdef", 6);
	free(out);
	ck_assert_int_eq(ztc_image_pad(NULL, 3, 8, &out, &len), ZTC_ERR_ARG);
}
END_TEST

START_TEST(board_ops_args)
{
	char *id = (char *)0x1;

	ck_assert_int_eq(ztc_board_burn(ctx, NULL, NULL), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_board_reset(ctx, NULL), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_board_read_chipid(ctx, NULL, &id), ZTC_ERR_ARG);
	ck_assert_ptr_eq(id, (char *)0x1);
	ck_assert_int_eq(ztc_board_enter_virtualizable(ctx, NULL), ZTC_ERR_ARG);
	ztc_ctx_set_progress(NULL, NULL, NULL);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { string_bin, list_bin_with_loc, invalid_json, not_a_firmware, bin_wrong_type,
				       bad_base64, loc_mismatch, load_files, image_pad, board_ops_args, NULL };
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	rc = check_run(check_suite("firmware", check_tcase("parse", setup, teardown, tests), NULL), NULL);
	check_rm_tree(tmpdir);
	return rc;
}
