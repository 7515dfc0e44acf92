/* firmware.c: .vm and register.vm files: JSON object, `bin` base64 image(s), optional `loc` addresses. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <yajl/yajl_tree.h>

#include "internal.h"

struct ztc_firmware {
	yajl_val json;    /* the whole object, for get_str/get_int (bin strings included) */
	size_t n;
	ztc_image *img;   /* n images; data owned here (gnutls_malloc'd), loc borrowed from json */
};

ZTC_API void ztc_firmware_free(ztc_firmware *fw)
{
	if (!fw)
		return;
	for (size_t i = 0; i < fw->n; i++)
		gnutls_free((void *)fw->img[i].data);
	free(fw->img);
	yajl_tree_free(fw->json);
	free(fw);
}

/* "0x1000": what the toolchain wrote and what flashing tools take. */
static bool is_hex_address(const char *s)
{
	if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
		return false;
	for (s += 2; *s; s++)
		if (!strchr("0123456789abcdefABCDEF", *s))
			return false;
	return true;
}

/* Decode one base64 string into img; what names it in messages ("\"bin\"" or "bin[2]"). */
static int decode(ztc_ctx *ctx, const char *name, const char *what, yajl_val v, ztc_image *img)
{
	gnutls_datum_t in, out = { NULL, 0 };
	size_t len;
	int rc;

	if (!YAJL_IS_STRING(v))
		return ztc_fail(ctx, ZTC_ERR_PARSE, "%s: %s is not a base64 string", name, what);
	len = strlen(v->u.string);
	if (len == 0)
		return ztc_fail(ctx, ZTC_ERR_PARSE, "%s: %s is empty: there is no image to flash", name, what);
	if (len > UINT32_MAX)
		return ztc_fail(ctx, ZTC_ERR_PARSE, "%s: %s is too large", name, what);
	in.data = (unsigned char *)v->u.string;
	in.size = (unsigned int)len;
	rc = gnutls_base64_decode2(&in, &out);
	if (rc == GNUTLS_E_MEMORY_ERROR)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	if (rc < 0 || out.size == 0) {
		gnutls_free(out.data);
		return ztc_fail(ctx, ZTC_ERR_PARSE, "%s: %s is not valid base64", name, what);
	}
	img->data = out.data;
	img->len = out.size;
	return ZTC_OK;
}

ZTC_API int ztc_firmware_parse(ztc_ctx *ctx, const char *name, const char *json, size_t len,
			       ztc_firmware **ret_fw)
{
	ztc_firmware *fw;
	yajl_val bin, loc;
	char errbuf[256] = "";
	char *text;
	int rc = ZTC_OK;

	if (!ctx || !json || !ret_fw)
		return ZTC_ERR_ARG;
	if (!name)
		name = "firmware";
	if (len > ZTC_FIRMWARE_MAX_BYTES)
		return ztc_fail(ctx, ZTC_ERR_PARSE, "%s: larger than %u MiB: not a firmware file", name,
				ZTC_FIRMWARE_MAX_BYTES >> 20);
	if (memchr(json, '\0', len))
		return ztc_fail(ctx, ZTC_ERR_PARSE, "%s: invalid JSON: it contains a NUL byte", name);
	/* ztc_json_parse wants a C string. */
	text = malloc(len + 1);
	fw = calloc(1, sizeof(*fw));
	if (!text || !fw) {
		free(text);
		free(fw);
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	memcpy(text, json, len);
	text[len] = '\0';
	fw->json = ztc_json_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (!fw->json) {
		rc = ztc_fail(ctx, ZTC_ERR_PARSE, "%s: invalid JSON: %s", name, *errbuf ? errbuf : "parse error");
		goto fail;
	}
	if (!YAJL_IS_OBJECT(fw->json)) {
		rc = ztc_fail(ctx, ZTC_ERR_PARSE, "%s: not a JSON object: not a firmware file", name);
		goto fail;
	}
	bin = ztc_json_get(fw->json, "bin", yajl_t_any);
	if (!bin) {
		rc = ztc_fail(ctx, ZTC_ERR_PARSE, "%s: no \"bin\": not a firmware file", name);
		goto fail;
	}
	if (YAJL_IS_STRING(bin)) {
		fw->n = 1;
	} else if (YAJL_IS_ARRAY(bin)) {
		fw->n = YAJL_GET_ARRAY(bin)->len;
		if (fw->n == 0) {
			rc = ztc_fail(ctx, ZTC_ERR_PARSE, "%s: \"bin\" is an empty list: there is no image to flash",
				      name);
			goto fail;
		}
	} else {
		rc = ztc_fail(ctx, ZTC_ERR_PARSE, "%s: \"bin\" must be a base64 string or a list of base64 strings",
			      name);
		goto fail;
	}
	fw->img = calloc(fw->n, sizeof(*fw->img));
	if (!fw->img) {
		fw->n = 0;
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (YAJL_IS_STRING(bin)) {
		rc = decode(ctx, name, "\"bin\"", bin, &fw->img[0]);
	} else {
		for (size_t i = 0; i < fw->n && rc == ZTC_OK; i++) {
			char what[32];

			snprintf(what, sizeof(what), "bin[%zu]", i);
			rc = decode(ctx, name, what, YAJL_GET_ARRAY(bin)->values[i], &fw->img[i]);
		}
	}
	if (rc < 0)
		goto fail;
	loc = ztc_json_get(fw->json, "loc", yajl_t_any);
	if (loc && !YAJL_IS_NULL(loc)) {
		if (!YAJL_IS_ARRAY(loc)) {
			rc = ztc_fail(ctx, ZTC_ERR_PARSE, "%s: \"loc\" must be a list of hexadecimal addresses", name);
			goto fail;
		}
		if (YAJL_GET_ARRAY(loc)->len != fw->n) {
			rc = ztc_fail(ctx, ZTC_ERR_PARSE, "%s: \"loc\" has %zu address%s for %zu image%s", name,
				      YAJL_GET_ARRAY(loc)->len, YAJL_GET_ARRAY(loc)->len == 1 ? "" : "es", fw->n,
				      fw->n == 1 ? "" : "s");
			goto fail;
		}
		for (size_t i = 0; i < fw->n; i++) {
			yajl_val a = YAJL_GET_ARRAY(loc)->values[i];

			if (!YAJL_IS_STRING(a) || !is_hex_address(a->u.string)) {
				rc = ztc_fail(ctx, ZTC_ERR_PARSE, "%s: loc[%zu] is not a hexadecimal address like \"0x1000\"",
					      name, i);
				goto fail;
			}
			fw->img[i].loc = a->u.string;
		}
	}
	*ret_fw = fw;
	return ZTC_OK;
fail:
	ztc_firmware_free(fw);
	return rc;
}

ZTC_API int ztc_firmware_load(ztc_ctx *ctx, const char *path, ztc_firmware **ret_fw)
{
	char *text;
	size_t len = 0;
	int err = 0, rc;

	if (!ctx || !path || !ret_fw)
		return ZTC_ERR_ARG;
	text = ztc_read_file(path, ZTC_FIRMWARE_MAX_BYTES, &len, &err);
	if (!text) {
		if (err == ENOENT)
			return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "%s: no such firmware file", path);
		if (err == EFBIG)
			return ztc_fail(ctx, ZTC_ERR_PARSE, "%s: larger than %u MiB: not a firmware file", path,
					ZTC_FIRMWARE_MAX_BYTES >> 20);
		if (err == ENOMEM)
			return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		return ztc_fail(ctx, ZTC_ERR_IO, "%s: cannot read it: %s", path, ztc_read_strerror(err));
	}
	rc = ztc_firmware_parse(ctx, path, text, len, ret_fw);
	free(text);
	if (rc == ZTC_OK)
		ztc_dbg(ctx, "%s: %zu image(s)", path, (*ret_fw)->n);
	return rc;
}

ZTC_API size_t ztc_firmware_image_count(const ztc_firmware *fw)
{
	return fw ? fw->n : 0;
}

ZTC_API const ztc_image *ztc_firmware_image(const ztc_firmware *fw, size_t i)
{
	return fw && i < fw->n ? &fw->img[i] : NULL;
}

ZTC_API const char *ztc_firmware_get_str(const ztc_firmware *fw, const char *key)
{
	return fw ? ztc_json_get_str(fw->json, key) : NULL;
}

ZTC_API long ztc_firmware_get_int(const ztc_firmware *fw, const char *key, long def)
{
	yajl_val v = fw ? ztc_json_get(fw->json, key, yajl_t_any) : NULL;

	if (v && YAJL_IS_INTEGER(v))
		return (long)YAJL_GET_INTEGER(v);
	if (v && YAJL_IS_TRUE(v))
		return 1;
	if (v && YAJL_IS_FALSE(v))
		return 0;
	return def;
}
