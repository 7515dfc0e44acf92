# core/backend.mk: the backend client, credentials and VM store (libztc), `ztc vm` and `ztc login`, their tests.
core_lib_libztc_la_SOURCES += core/lib/backend.c core/lib/vmstore.c core/lib/vmcreate.c core/lib/vmremote.c
ztcinclude_HEADERS += core/include/ztc/backend.h
core_cli_ztc_SOURCES += core/cli/vm.c core/cli/login.c

# Against tests/backend/backend-server.py on 127.0.0.1 (Python 3 standard library): real libcurl over
# real sockets, plain HTTP and HTTPS with a CA made at test time by certtool. No umockdev needed.
check_PROGRAMS += tests/backend/backend-call
tests_backend_backend_call_SOURCES = tests/backend/backend-call.c
tests_backend_backend_call_LDADD = core/lib/libztc.la
TESTS += \
	tests/backend/login.sh \
	tests/backend/vm-create.sh \
	tests/backend/faults.sh \
	tests/backend/tls.sh \
	tests/backend/client.sh \
	tests/backend/vm-remote.sh
EXTRA_DIST += \
	tests/backend/lib.sh \
	tests/backend/backend-server.py \
	tests/backend/login.sh \
	tests/backend/vm-create.sh \
	tests/backend/faults.sh \
	tests/backend/tls.sh \
	tests/backend/client.sh \
	tests/backend/vm-remote.sh
