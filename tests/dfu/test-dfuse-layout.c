/* test-dfuse-layout.c: Check suite: the DfuSe memory-layout strings the dfu plugin reads from a device
 * (real bootloaders' strings, sector lookup, and hostile strings refused with a reason). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dfuse.h"

#include "../common/check-util.h"

static struct dfuse_layout parse_ok(const char *s)
{
	struct dfuse_layout l;
	char why[96] = "";

	ck_assert_msg(dfuse_layout_parse(s, &l, why, sizeof(why)) == 0, "%s: %s", s, why);
	return l;
}

/* Refused, with *ret untouched and a reason naming the place. */
static void parse_bad(const char *s, const char *reason)
{
	struct dfuse_layout l;
	char why[96] = "";

	memset(&l, 0x5A, sizeof(l));
	ck_assert_int_eq(dfuse_layout_parse(s, &l, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, reason) != NULL, "%s: reason '%s' lacks '%s'", s ? s : "NULL", why, reason);
	ck_assert_int_eq(((unsigned char *)&l)[0], 0x5A);
}

static void expect_sector(const struct dfuse_layout *l, uint32_t addr, uint32_t start, uint32_t size, int attr)
{
	uint32_t s, z;
	int a;

	ck_assert_msg(dfuse_layout_sector(l, addr, &s, &z, &a) == 1, "no sector at 0x%08X", addr);
	ck_assert_uint_eq(s, start);
	ck_assert_uint_eq(z, size);
	ck_assert_int_eq(a, attr);
}

START_TEST(test_photon)
{
	struct dfuse_layout l = parse_ok("@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg");
	uint32_t s, z;
	int a;

	ck_assert_str_eq(l.name, "Internal Flash");
	ck_assert_uint_eq(l.ngroups, 4);
	expect_sector(&l, 0x08000000, 0x08000000, 16384, DFUSE_READABLE);
	expect_sector(&l, 0x08007FFF, 0x08004000, 16384, DFUSE_READABLE);
	expect_sector(&l, 0x0800C000, 0x0800C000, 16384, DFUSE_READABLE | DFUSE_ERASABLE | DFUSE_WRITABLE);
	expect_sector(&l, 0x08010000, 0x08010000, 65536, 7);
	expect_sector(&l, 0x08020000, 0x08020000, 131072, 7);
	expect_sector(&l, 0x08040001, 0x08040000, 131072, 7);
	expect_sector(&l, 0x080FFFFF, 0x080E0000, 131072, 7);
	ck_assert_int_eq(dfuse_layout_sector(&l, 0x08100000, &s, &z, &a), 0);
	ck_assert_int_eq(dfuse_layout_sector(&l, 0x07FFFFFF, &s, &z, &a), 0);
	ck_assert_int_eq(dfuse_layout_sector(&l, 0x1FFF7A10, &s, &z, &a), 0);
}
END_TEST

START_TEST(test_st_rom)
{
	/* ST's system bootloaders: byte units with a space, several segments, 2 KiB pages of the L4. */
	struct dfuse_layout l = parse_ok("@OTP Memory /0x1FFF7800/01*512 e,01*016 e");

	ck_assert_str_eq(l.name, "OTP Memory");
	expect_sector(&l, 0x1FFF7800, 0x1FFF7800, 512, DFUSE_READABLE | DFUSE_WRITABLE);
	expect_sector(&l, 0x1FFF7A0F, 0x1FFF7A00, 16, 5);
	l = parse_ok("@Internal Flash  /0x08000000/0256*0002Kg");
	ck_assert_uint_eq(l.group[0].count, 256);
	expect_sector(&l, 0x0807F800, 0x0807F800, 2048, 7);
	l = parse_ok("@Internal Flash /0x08000000/04*016Kg,01*064Kg,07*128Kg/0x08100000/04*016Kg,01*064Kg,07*128Kg");
	ck_assert_uint_eq(l.ngroups, 6);
	expect_sector(&l, 0x08110000, 0x08110000, 65536, 7);
	l = parse_ok("@Option Bytes  /0x1FFFC000/01*016 e");
	expect_sector(&l, 0x1FFFC00F, 0x1FFFC000, 16, 5);
	l = parse_ok("@SPI Flash : SST25x/0x00000000/512*04Kg");
	ck_assert_str_eq(l.name, "SPI Flash : SST25x");
	l = parse_ok("@Big /0x00000000/01*004Mg/");
	expect_sector(&l, 0x003FFFFF, 0, 4u << 20, 7);
	/* The last bytes of the address space, up to 4 GiB exactly. */
	l = parse_ok("@Top /0xFFFFF000/04*1Ka");
	expect_sector(&l, 0xFFFFFFFF, 0xFFFFFC00, 1024, 1);
}
END_TEST

START_TEST(test_hostile)
{
	parse_bad(NULL, "no '@'");
	parse_bad("", "no '@'");
	parse_bad("Internal Flash /0x08000000/01*016Kg", "no '@'");
	parse_bad("@Internal Flash", "no '/'");
	parse_bad("@X /08000000/01*016Kg", "no 0x address");
	parse_bad("@X /0x/01*016Kg", "bad address");
	parse_bad("@X /0x108000000/01*016Kg", "beyond 32 bits");
	parse_bad("@X /0x08000000/", "bad sector count");
	parse_bad("@X /", "no sectors");
	parse_bad("@X /0x08000000/00*016Kg", "bad sector count");
	parse_bad("@X /0x08000000/99999999*016Kg", "bad sector count");
	parse_bad("@X /0x08000000/01016Kg", "no '*'");
	parse_bad("@X /0x08000000/01*000Kg", "bad sector size");
	parse_bad("@X /0x08000000/01*016Kh", "bad sector attribute");
	parse_bad("@X /0x08000000/01*016K", "bad sector attribute");
	parse_bad("@X /0x08000000/01*016Kg;", "unexpected text");
	parse_bad("@X /0x08000000/01*016Kg,", "bad sector count");
	/* Sectors past 4 GiB would wrap around to address 0. */
	parse_bad("@X /0xFFFFF000/05*1Ka", "beyond 4 GiB");
	parse_bad("@X /0x08000000/65536*999Mg", "beyond 4 GiB");
}
END_TEST

START_TEST(test_many_groups)
{
	char s[2048] = "@Many /0x00000000/";
	struct dfuse_layout l;
	char why[96];

	for (int i = 0; i < DFUSE_MAX_GROUPS; i++)
		strcat(s, i ? ",01*001Kg" : "01*001Kg");
	l = parse_ok(s);
	ck_assert_uint_eq(l.ngroups, DFUSE_MAX_GROUPS);
	strcat(s, ",01*001Kg");
	ck_assert_int_eq(dfuse_layout_parse(s, &l, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "too many sector groups"));
}
END_TEST

START_TEST(test_long_name)
{
	char s[300] = "@";
	struct dfuse_layout l;

	memset(s + 1, 'N', 200);
	strcpy(s + 201, "/0x08000000/01*016Kg");
	l = parse_ok(s);
	ck_assert_uint_eq(strlen(l.name), sizeof(l.name) - 1);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { test_photon, test_st_rom, test_hostile, test_many_groups, test_long_name, NULL };

	return check_run(check_suite("dfuse-layout", check_tcase("parse", NULL, NULL, tests), NULL), NULL);
}
