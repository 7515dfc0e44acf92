/* error.c: error codes and their descriptions. */
#include "config.h"

#include "internal.h"

ZADM_API const char *zadm_strerror(int err)
{
	switch (err) {
	case ZADM_OK: return "success";
	case ZADM_ERR: return "failure";
	case ZADM_ERR_NOMEM: return "out of memory";
	case ZADM_ERR_ARG: return "invalid argument";
	case ZADM_ERR_STATE: return "not allowed in the current state";
	case ZADM_ERR_QUEUE_FULL: return "send queue full";
	case ZADM_ERR_JSON: return "malformed or unexpected JSON";
	case ZADM_ERR_IO: return "input/output error";
	case ZADM_ERR_TLS: return "TLS error";
	case ZADM_ERR_CORRUPT: return "corrupt FOTA record";
	case ZADM_ERR_SLOT: return "bad FOTA slot";
	case ZADM_ERR_TOO_LONG: return "message too long";
	}
	return "unknown error";
}
