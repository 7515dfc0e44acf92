/* uid.c: the board uid, SHA-1 of "VID:PID:SID" as the Python toolchain computed it (GnuTLS). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "internal.h"

ZTC_API int ztc_uid_compute(const char *vid, const char *pid, const char *sid, char ret_uid[41])
{
	unsigned char digest[20];
	char *key;
	int rc;

	if (!vid || !pid || !sid || !ret_uid)
		return ZTC_ERR_ARG;
	key = ztc_strdup_printf("%s:%s:%s", vid, pid, sid);
	if (!key)
		return ZTC_ERR_NOMEM;
	rc = gnutls_hash_fast(GNUTLS_DIG_SHA1, key, strlen(key), digest);
	free(key);
	if (rc < 0)
		return ZTC_ERR;
	for (int i = 0; i < 20; i++)
		snprintf(ret_uid + 2 * i, 3, "%02x", digest[i]);
	return ZTC_OK;
}
