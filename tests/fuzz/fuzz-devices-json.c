/* fuzz-devices-json.c: libFuzzer target for the known-device store $ZTC_HOME/devices.json: load it,
 * look entries up, and when it loads, write it back through ztc_store_update (no change, then one
 * put and one del) and check the file reads back as the same store. */
#include "config.h"

#include "fuzz-common.h"
#include "internal.h"

static ztc_ctx *ctx;
static char store_path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("devices-json");

	snprintf(store_path, sizeof(store_path), "%s/devices.json", dir);
	setenv("ZTC_HOME", dir, 1);
	if (ztc_ctx_new(&ctx) != ZTC_OK)
		abort();
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool known_eq(const ztc_known *a, const ztc_known *b)
{
	return str_eq(a->alias, b->alias) && str_eq(a->uid, b->uid) && str_eq(a->name, b->name) &&
	       str_eq(a->target, b->target) && str_eq(a->chipid, b->chipid) &&
	       str_eq(a->remote_id, b->remote_id) && str_eq(a->classname, b->classname);
}

static bool store_eq(const ztc_store *a, const ztc_store *b)
{
	if (ztc_store_count(a) != ztc_store_count(b))
		return false;
	for (size_t i = 0; i < ztc_store_count(a); i++)
		if (!known_eq(ztc_store_get(a, i), ztc_store_get(b, i)))
			return false;
	return true;
}

static int no_change(ztc_ctx *c, ztc_store *s, void *ud)
{
	return ZTC_OK;
}

static const ztc_known extra = { .alias = "zz-fuzz", .uid = "0123456789abcdef0123456789abcdef01234567",
				 .name = "Fuzz", .target = "fuzz_target", .classname = "Cls" };

static int put_then_del(ztc_ctx *c, ztc_store *s, void *ud)
{
	int rc = ztc_store_put(c, s, &extra);

	if (rc == ZTC_OK)
		rc = ztc_store_del(c, s, extra.alias);
	return rc;
}

static int put_only(ztc_ctx *c, ztc_store *s, void *ud)
{
	return ztc_store_put(c, s, &extra);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ztc_store *s = NULL, *back = NULL;
	int rc;

	fuzz_write_file(store_path, data, size);
	rc = ztc_store_load(ctx, &s);
	if (rc != ZTC_OK) {
		FUZZ_CHECK(rc == ZTC_ERR_CORRUPT && s == NULL);
		FUZZ_CHECK(strchr(ztc_ctx_errmsg(ctx), '\n') == NULL);
		/* A corrupt store is never overwritten. */
		FUZZ_CHECK(ztc_store_update(ctx, no_change, NULL) == ZTC_ERR_CORRUPT);
		return 0;
	}
	for (size_t i = 0; i < ztc_store_count(s); i++) {
		const ztc_known *k = ztc_store_get(s, i);

		FUZZ_CHECK(k->alias && *k->alias && k->uid && *k->uid && k->target && *k->target);
		FUZZ_CHECK(ztc_store_find_alias(s, k->alias) != NULL);
		FUZZ_CHECK(ztc_store_find_uid(s, k->uid) == k);
		FUZZ_CHECK(ztc_alias_valid(k->alias));
		/* Sorted by alias, and no alias twice (issue 11: the load refuses such a store). */
		if (i)
			FUZZ_CHECK(strcmp(ztc_store_get(s, i - 1)->alias, k->alias) < 0);
	}
	/* Written back unchanged, the file reads back as the same store. */
	FUZZ_CHECK(ztc_store_update(ctx, no_change, NULL) == ZTC_OK);
	FUZZ_CHECK(ztc_store_load(ctx, &back) == ZTC_OK);
	FUZZ_CHECK(store_eq(s, back));
	ztc_store_free(back);
	back = NULL;
	/* A put and a del of the same new entry leave it as it was (when the alias is free). */
	if (!ztc_store_find_alias(s, extra.alias) && !ztc_store_find_uid(s, extra.uid)) {
		FUZZ_CHECK(ztc_store_update(ctx, put_then_del, NULL) == ZTC_OK);
		FUZZ_CHECK(ztc_store_load(ctx, &back) == ZTC_OK);
		FUZZ_CHECK(store_eq(s, back));
		ztc_store_free(back);
		back = NULL;
		FUZZ_CHECK(ztc_store_update(ctx, put_only, NULL) == ZTC_OK);
		FUZZ_CHECK(ztc_store_load(ctx, &back) == ZTC_OK);
		FUZZ_CHECK(ztc_store_count(back) == ztc_store_count(s) + 1);
		FUZZ_CHECK(ztc_store_find_alias(back, extra.alias) != NULL);
		ztc_store_free(back);
	}
	ztc_store_free(s);
	return 0;
}
