/* rpc.c: run a CALL on the worker thread and queue its RETN. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

void zadm_rpc_run(zadm_device *dev, struct zadm_job *job)
{
	yajl_val v = job->msg, id = zj_get(v, "id"), ret = zj_get(v, "ret"), args = zj_get(v, "args");
	yajl_val res = NULL;
	const char *method = zj_get_str(v, "method");
	const char *error = NULL;
	bool want = ret && ret->type == yajl_t_true;
	char *args_text = NULL, *out = NULL, *line;
	const zadm_rpc *fn = NULL;
	size_t len;

	if (!method) {
		zadm_log_limited(dev, ZADM_RL_RPC, ZADM_LOG_WARN, "RPC: CALL without a method name");
		error = "missing method";
		goto reply;
	}
	for (size_t i = 0; i < dev->n_rpc && !fn; i++)
		if (strcmp(dev->rpc[i].name, method) == 0)
			fn = &dev->rpc[i];
	if (!fn) {
		zadm_log_limited(dev, ZADM_RL_RPC, ZADM_LOG_WARN, "RPC: unknown method %s", method);
		error = "unknown method";
		goto reply;
	}
	if (args && args->type != yajl_t_array) {
		zadm_log_limited(dev, ZADM_RL_RPC, ZADM_LOG_WARN, "RPC: %s: args is not an array", method);
		error = "args must be an array";
		goto reply;
	}
	args_text = args ? zj_to_text(args) : strdup("[]");
	if (!args_text) {
		error = "out of memory";
		goto reply;
	}
	zadm_dbg(dev, "RPC: calling %s", method);
	if (fn->fn(fn->userdata, args_text, &out)) {
		/* The error text goes into a JSON string: never let bytes that are not UTF-8 lose the reply. */
		if (out)
			zj_utf8_sanitize(out);
		error = out ? out : "function failed";
		zadm_log_limited(dev, ZADM_RL_RPC, ZADM_LOG_INFO, "RPC: %s failed: %s", method, error);
	} else if (out) {
		char err[128];

		res = zj_parse(out, err, sizeof(err));
		if (!res) {
			zadm_log_limited(dev, ZADM_RL_RPC, ZADM_LOG_WARN, "RPC: %s returned invalid JSON: %s",
					 method, err);
			error = "invalid result";
		}
	}
reply:
	if (want) {
		line = zadm_proto_retn(id, res, error, &len);
		if (line)
			zadm_device_push_internal(dev, line, len, job->gen);
		else
			zadm_warn(dev, "RPC: cannot build the reply: out of memory");
	}
	yajl_tree_free(res);
	free(out);
	free(args_text);
}
