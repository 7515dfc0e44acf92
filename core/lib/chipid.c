/* chipid.c: the chip id a registration firmware prints: the most frequent of the lines read. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "ztc/console.h"

#define LINE_MAX_LEN 256

/* The original toolchain's rule: the line seen most often wins, but only if it was seen more than
 * three times and is at least 8 characters long; a firmware prints its hex id over and over. */
ZTC_API int ztc_chipid_pick(const char *const *lines, size_t n, char **ret_chipid)
{
	size_t best = 0, best_count = 0;

	if (!lines || !ret_chipid)
		return ZTC_ERR_ARG;
	for (size_t i = 0; i < n; i++) {
		size_t count = 0;

		if (!lines[i] || !*lines[i])
			continue;
		for (size_t j = 0; j < n; j++)
			count += lines[j] && strcmp(lines[i], lines[j]) == 0;
		if (count > best_count) {
			best_count = count;
			best = i;
		}
	}
	if (best_count <= 3 || strlen(lines[best]) < 8)
		return ZTC_ERR_NOT_FOUND;
	*ret_chipid = strdup(lines[best]);
	return *ret_chipid ? ZTC_OK : ZTC_ERR_NOMEM;
}

ZTC_API int ztc_chipid_read_serial(ztc_ctx *ctx, const char *port, const ztc_serial_params *params,
				   size_t nlines, int timeout_ms, char **ret_chipid)
{
	char **lines = calloc(nlines ? nlines : 1, sizeof(*lines));
	char cur[LINE_MAX_LEN + 1];
	size_t have = 0, curlen = 0;
	long long deadline = ztc_now_ms() + timeout_ms;
	int fd = -1, rc;

	if (!lines)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	rc = ztc_serial_open(ctx, port, params, &fd);
	if (rc < 0)
		goto out;
	ztc_info(ctx, "reading the chip id from %s (%zu lines)", port, nlines);
	while (have < nlines) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - ztc_now_ms();
		char buf[512];
		ssize_t r;

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (p.revents & (POLLHUP | POLLERR) && !(p.revents & POLLIN)) {
			rc = ztc_fail(ctx, ZTC_ERR_GONE, "%s went away while reading the chip id", port);
			goto out;
		}
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			rc = ztc_fail(ctx, ZTC_ERR_GONE, "%s went away while reading the chip id", port);
			goto out;
		}
		for (ssize_t i = 0; i < r && have < nlines; i++) {
			char c = buf[i];

			if (c == '\n') {
				/* Strip the CR of CRLF and any trailing blanks, as Python's strip() did. */
				while (curlen && (cur[curlen - 1] == '\r' || cur[curlen - 1] == ' '))
					curlen--;
				cur[curlen] = '\0';
				lines[have] = strdup(cur);
				if (!lines[have]) {
					rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
					goto out;
				}
				ztc_dbg(ctx, "chip id line %zu: %s", have + 1, cur);
				have++;
				curlen = 0;
			} else if (curlen < LINE_MAX_LEN) {
				cur[curlen++] = c;
			}
		}
	}
	rc = ztc_chipid_pick((const char *const *)lines, have, ret_chipid);
	if (rc == ZTC_ERR_NOT_FOUND)
		rc = ztc_fail(ctx, ZTC_ERR_NOT_FOUND,
			      "can't find the chip id: no line of the %zu read from %s was repeated more than 3 times "
			      "with at least 8 characters", have, port);
out:
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < have; i++)
		free(lines[i]);
	free(lines);
	return rc;
}
