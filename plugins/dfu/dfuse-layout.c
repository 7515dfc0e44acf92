/* dfuse-layout.c: parse the memory layout a DfuSe alt setting gives as its interface string. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dfuse.h"

static int fail(char *why, size_t why_len, const char *msg, const char *at)
{
	if (why && why_len)
		snprintf(why, why_len, "%s at \"%.16s\"", msg, at);
	return -1;
}

/* Up to max_digits decimal digits: *ret <= limit. */
static const char *dec(const char *p, int max_digits, uint64_t limit, uint64_t *ret)
{
	uint64_t v = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9') {
		if (++n > max_digits)
			return NULL;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (n == 0 || v > limit)
		return NULL;
	*ret = v;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dfuse_layout_parse(const char *s, struct dfuse_layout *ret, char *why, size_t why_len)
{
	struct dfuse_layout l;
	const char *p = s, *name;
	size_t nlen;

	memset(&l, 0, sizeof(l));
	if (!s || *p != '@')
		return fail(why, why_len, "no '@' to start the layout", s ? s : "");
	name = ++p;
	p = strchr(p, '/');
	if (!p)
		return fail(why, why_len, "no '/' after the name", name);
	nlen = (size_t)(p - name);
	while (nlen > 0 && name[nlen - 1] == ' ')
		nlen--;
	if (nlen >= sizeof(l.name))
		nlen = sizeof(l.name) - 1;
	memcpy(l.name, name, nlen);
	/* Segments: "/0xADDR/GROUP,GROUP...", one or more. */
	while (*p == '/' && p[1] != '\0') {
		uint64_t addr = 0;
		int n = 0, h;

		p++;
		if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
			return fail(why, why_len, "no 0x address", p);
		for (p += 2; (h = hexval(*p)) >= 0; p++) {
			if (++n > 8)
				return fail(why, why_len, "address beyond 32 bits", p);
			addr = addr << 4 | (uint64_t)h;
		}
		if (n == 0 || *p != '/')
			return fail(why, why_len, "bad address", p);
		p++;
		for (;;) {
			uint64_t count, size, mult = 1, total;
			struct dfuse_group *g;

			if (!(p = dec(p, 6, 65536, &count)) || count == 0)
				return fail(why, why_len, "bad sector count", p ? p : s);
			if (*p++ != '*')
				return fail(why, why_len, "no '*' after the sector count", p - 1);
			if (!(p = dec(p, 6, 999999, &size)) || size == 0)
				return fail(why, why_len, "bad sector size", p ? p : s);
			if (*p == ' ' || *p == 'B')
				p++;
			else if (*p == 'K')
				mult = 1024, p++;
			else if (*p == 'M')
				mult = 1024 * 1024, p++;
			if (*p < 'a' || *p > 'g')
				return fail(why, why_len, "bad sector attribute", p);
			size *= mult;
			total = count * size;
			if (size > UINT32_MAX || total > (uint64_t)UINT32_MAX + 1 - addr)
				return fail(why, why_len, "sectors beyond 4 GiB", p);
			if (l.ngroups == DFUSE_MAX_GROUPS)
				return fail(why, why_len, "too many sector groups", p);
			g = &l.group[l.ngroups++];
			g->start = (uint32_t)addr;
			g->size = (uint32_t)size;
			g->count = (uint32_t)count;
			g->attr = *p++ - 'a' + 1;
			addr += total;
			if (*p != ',')
				break;
			p++;
		}
	}
	if (*p == '/')
		p++;
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return fail(why, why_len, "unexpected text", p);
	if (l.ngroups == 0)
		return fail(why, why_len, "no sectors", s);
	*ret = l;
	return 0;
}

int dfuse_layout_sector(const struct dfuse_layout *l, uint32_t addr, uint32_t *ret_start, uint32_t *ret_size,
			int *ret_attr)
{
	for (size_t i = 0; i < l->ngroups; i++) {
		const struct dfuse_group *g = &l->group[i];
		uint64_t off = (uint64_t)addr - g->start;

		if (addr >= g->start && off < (uint64_t)g->size * g->count) {
			*ret_start = g->start + (uint32_t)(off / g->size * g->size);
			*ret_size = g->size;
			*ret_attr = g->attr;
			return 1;
		}
	}
	return 0;
}
