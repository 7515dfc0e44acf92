/* flash-image.c: the images a flash object's method writes: padding and size rules, parts and addresses. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flash.h"

int flash_prepare_single(struct flash_run *r, const ztc_image *img, size_t nimg, unsigned char **ret,
			 size_t *ret_len)
{
	/* The byte counts were checked when the database loaded (flash-check.c). */
	long long pad_to = flash_get_uint(r->flash, "pad_to", 0), below = flash_get_uint(r->flash, "pad_if_below", 0);
	long long max = flash_get_uint(r->flash, "max_size", 0), append = flash_get_uint(r->flash, "append_zeros", 0);
	unsigned char *buf = NULL, *nb;
	size_t len;

	if (nimg != 1)
		return ztc_board_fail(r->b, ZTC_ERR_ARG, "%s takes one image, the firmware has %zu", r->name, nimg);
	if (max && img->len > (unsigned long long)max)
		return ztc_board_fail(r->b, ZTC_ERR_ARG, "the image (%zu bytes) is larger than %s takes (%lld bytes)",
				      img->len, r->name, max);
	if (!pad_to || (below && img->len >= (unsigned long long)below))
		pad_to = 0;
	if (ztc_image_pad(img->data, img->len, (size_t)pad_to, &buf, &len) < 0)
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	if (len != img->len)
		ztc_board_log(r->b, ZTC_LOG_INFO, "image padded with zeros from %zu to %zu bytes", img->len, len);
	if (append) {
		nb = realloc(buf, len + (size_t)append);
		if (!nb) {
			free(buf);
			return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
		}
		buf = nb;
		memset(buf + len, 0, (size_t)append);
		len += (size_t)append;
		ztc_board_log(r->b, ZTC_LOG_INFO, "%lld zero bytes appended to the image", append);
	}
	*ret = buf;
	*ret_len = len;
	return ZTC_OK;
}

int flash_write_single(struct flash_run *r, const ztc_image *img, size_t nimg)
{
	unsigned char *buf;
	size_t len;
	int rc;

	rc = flash_prepare_single(r, img, nimg, &buf, &len);
	if (rc < 0)
		return rc;
	rc = ztc_board_temp_file(r->b, "firmware.bin", buf, len, &r->file);
	free(buf);
	return rc;
}

bool flash_parse_addr(const char *s, unsigned long long *ret)
{
	char *end;

	if (!s || strncasecmp(s, "0x", 2) != 0 || !isxdigit((unsigned char)s[2]))
		return false;
	errno = 0;
	*ret = strtoull(s + 2, &end, 16);
	return errno == 0 && *end == '\0';
}

/* The addresses of the parts: fixed ones first (device.json, else the file's loc), then the parts
 * placed after another, in as many passes as it takes. addr[part] borrows or, in addr_own, owns. */
static int place_parts(struct flash_run *r, yajl_val list, const ztc_image *img, size_t nimg, const char **addr,
		       char **addr_own)
{
	size_t n = YAJL_GET_ARRAY(list)->len;

	for (size_t i = 0; i < n; i++) {
		yajl_val e = YAJL_GET_ARRAY(list)->values[i];
		size_t part = (size_t)flash_get_uint(e, "part", 0);
		const char *a = ztc_json_get_str(e, "address");
		unsigned long long v;

		if (ztc_json_get(e, "follows", yajl_t_any))
			continue;
		if (!a)
			a = img[part].loc;
		if (!a)
			return flash_bad(r, "images[%zu] has no address (and the firmware no loc for part %zu)", i, part);
		if (!flash_parse_addr(a, &v))
			return flash_bad(r, "images[%zu].address \"%s\" is not a hexadecimal address", i, a);
		addr[part] = a;
	}
	for (size_t pass = 0; pass < n; pass++)
		for (size_t i = 0; i < n; i++) {
			yajl_val e = YAJL_GET_ARRAY(list)->values[i];
			size_t part = (size_t)flash_get_uint(e, "part", 0), f = (size_t)flash_get_uint(e, "follows", 0);
			unsigned long long align = (unsigned long long)flash_get_uint(e, "align", 1), base, end;

			if (!ztc_json_get(e, "follows", yajl_t_any) || addr[part] || f >= nimg || !addr[f])
				continue; /* fixed, placed, or placed in a later pass */
			flash_parse_addr(addr[f], &base);
			end = (base + img[f].len + align - 1) / align * align;
			addr_own[part] = ztc_strdup_printf("0x%llx", end);
			if (!addr_own[part])
				return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
			addr[part] = addr_own[part];
		}
	return ZTC_OK;
}

int flash_write_parts(struct flash_run *r, const ztc_image *img, size_t nimg)
{
	yajl_val list = ztc_json_get(r->flash, "images", yajl_t_array);
	size_t n = YAJL_GET_ARRAY(list)->len, need = 0;
	const char **addr;
	char **addr_own;
	int rc;

	for (size_t i = 0; i < n; i++) {
		size_t part = (size_t)flash_get_uint(YAJL_GET_ARRAY(list)->values[i], "part", 0);

		if (part + 1 > need)
			need = part + 1;
	}
	if (nimg < need)
		return ztc_board_fail(r->b, ZTC_ERR_ARG, "%s needs %zu images (a .vm file's bin list), the firmware has %zu",
				      r->name, need, nimg);
	addr = calloc(nimg, sizeof(*addr));
	addr_own = calloc(nimg, sizeof(*addr_own));
	r->imgargs = calloc(2 * n, sizeof(*r->imgargs));
	if (!addr || !addr_own || !r->imgargs) {
		free(addr);
		free(addr_own);
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	}
	rc = place_parts(r, list, img, nimg, addr, addr_own);
	for (size_t i = 0; i < n && rc == ZTC_OK; i++) {
		size_t part = (size_t)flash_get_uint(YAJL_GET_ARRAY(list)->values[i], "part", 0);
		char fname[32];
		const char *path;

		if (!addr[part]) {
			rc = flash_bad(r, "images[%zu] follows a part that has no address", i);
			break;
		}
		snprintf(fname, sizeof(fname), "part%zu.bin", part);
		rc = ztc_board_temp_file(r->b, fname, img[part].data, img[part].len, &path);
		if (rc < 0)
			break;
		r->imgargs[r->nimgargs++] = addr[part];
		r->imgargs[r->nimgargs++] = path;
	}
	/* The computed addresses live as long as the run. */
	for (size_t i = 0; i < nimg; i++)
		if (addr_own[i] && !ztc_kept_add(&r->kept, addr_own[i]) && rc == ZTC_OK)
			rc = ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	free(addr_own);
	free(addr);
	return rc;
}

void flash_wait_after(struct flash_run *r, size_t bytes)
{
	long long ms = flash_get_uint(r->flash, "sleep_ms", 0);
	long long per_mib = flash_get_uint(r->flash, "sleep_ms_per_mib", 0);

	if (per_mib > 0)
		ms += (long long)(((unsigned long long)per_mib * bytes + (1u << 20) - 1) >> 20);
	if (ms > 0) {
		char msg[96];

		snprintf(msg, sizeof(msg), "waiting %lld.%01lld s while the board programs itself", ms / 1000,
			 (ms % 1000) / 100);
		ztc_board_progress(r->b, -1, msg);
		ztc_board_wait(r->b, (long)ms);
	}
}
