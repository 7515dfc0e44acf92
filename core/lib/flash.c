/* flash.c: the interpreter of a board's device.json `flash` object (ztc-plugin(7)): entry points, dispatch. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash.h"

int flash_bad(struct flash_run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ztc_board_fail(r->b, ZTC_ERR_PARSE, "%s: flash: %s", r->where, msg);
}

long long flash_get_uint(yajl_val obj, const char *key, long long def)
{
	yajl_val v = ztc_json_get(obj, key, yajl_t_any);

	if (!v)
		return def;
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
		return -1;
	return YAJL_GET_INTEGER(v);
}

bool flash_get_bool(yajl_val obj, const char *key)
{
	yajl_val v = ztc_json_get(obj, key, yajl_t_any);

	return v && (YAJL_IS_TRUE(v) || (YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) != 0));
}

int ztc_flash_refuse_bad(ztc_ctx *ctx, const ztc_target *t)
{
	char why[512];

	if (ztc_flash_check(ztc_target_json(t), why, sizeof(why)))
		return ZTC_OK;
	return ztc_fail(ctx, ZTC_ERR_PARSE, "%s/device.json: %s", ztc_target_get_path(t), why);
}

static void run_free(struct flash_run *r)
{
	ztc_kept_free(&r->kept);
	free(r->imgargs);
	free(r->where);
}

/* The run of one callback on the board's flash object, refused when the object breaks a rule (the
 * database warned about it when it loaded), so that the methods can rely on its shape. */
static int run_init(struct flash_run *r, ztc_board *b, bool need_flash)
{
	const ztc_target *t = ztc_board_target(b);
	int rc;

	memset(r, 0, sizeof(*r));
	r->b = b;
	r->ctx = ztc_board_ctx(b);
	if (!r->ctx || !t)
		return ZTC_ERR_ARG;
	r->name = ztc_board_get_str(b, "name");
	if (!r->name)
		r->name = ztc_board_get_str(b, "target");
	r->where = ztc_strdup_printf("%s/device.json", ztc_target_get_path(t));
	if (!r->where)
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	r->root = ztc_target_json(t);
	r->flash = ztc_json_get(r->root, "flash", yajl_t_object);
	rc = ztc_flash_refuse_bad(r->ctx, t);
	if (rc < 0)
		return rc;
	if (!r->flash && need_flash)
		return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s cannot be flashed: %s has no flash object", r->name,
				      r->where);
	return ZTC_OK;
}

ZTC_API const char *ztc_board_get_flash_str(const ztc_board *b, const char *key)
{
	return ztc_json_get_str(ztc_json_get(ztc_target_json(ztc_board_target(b)), "flash", yajl_t_object), key);
}

ZTC_API int ztc_flash_default(ztc_board *b, const ztc_image *img, size_t nimg)
{
	struct flash_run r;
	const char *method;
	int rc;

	if (!b || !img || nimg == 0)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no image to flash");
	rc = run_init(&r, b, true);
	if (rc < 0)
		goto out;
	method = ztc_json_get_str(r.flash, "method");
	if (strcmp(method, "tool") == 0) {
		rc = flash_method_tool(&r, img, nimg);
	} else if (strcmp(method, "disk") == 0) {
		rc = flash_method_disk(&r, img, nimg);
	} else if (strcmp(method, "unsupported") == 0) {
		const char *msg = ztc_json_get_str(r.flash, "message");

		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s", msg ? msg : "this board cannot be flashed");
	} else if (strcmp(method, "probe") == 0) {
		/* The probe drivers live in the modules that flash through probes: their burn takes this method and
		 * hands the others here. */
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s: flash method \"probe\": class %s flashes no probe (its "
				    "module must take the method itself, see ztc-plugin(7))", r.where,
				    ztc_board_get_str(b, "classname"));
	} else {
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s: flash method \"plugin\": the class must flash by itself",
				    r.where);
	}
out:
	run_free(&r);
	return rc;
}

/* Run the sub-object key of flash (method serial or tool); nothing when it is absent. */
static int run_sub(ztc_board *b, const char *key, const char *what)
{
	struct flash_run r;
	yajl_val sub;
	int rc = run_init(&r, b, false);

	if (rc < 0)
		goto out;
	sub = ztc_json_get(r.flash, key, yajl_t_object);
	if (!sub) {
		ztc_board_log(b, ZTC_LOG_DBG, "%s: no flash.%s: nothing to do", r.where, key);
		goto out;
	}
	if (strcmp(ztc_json_get_str(sub, "method"), "serial") == 0) {
		rc = flash_method_serial(&r, sub, key, what);
	} else {
		rc = flash_check_tools(&r, sub);
		if (rc == ZTC_OK)
			rc = flash_run_cmd(&r, sub, key);
	}
out:
	run_free(&r);
	return rc;
}

ZTC_API int ztc_flash_reset_default(ztc_board *b)
{
	return run_sub(b, "reset", "reset");
}

ZTC_API int ztc_flash_enter_virtualizable_default(ztc_board *b)
{
	return run_sub(b, "enter_virtualizable", "switch the mode of");
}
