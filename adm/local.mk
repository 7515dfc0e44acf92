# adm/local.mk: libzadm, zadm-sandbox, the examples and their tests.
lib_LTLIBRARIES += adm/lib/libzadm.la
zadmincludedir = $(includedir)/zadm
zadminclude_HEADERS = adm/include/zadm/zadm.h

ADM_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/adm/include -I$(top_srcdir)/adm/lib \
	$(GNUTLS_CFLAGS) $(YAJL_CFLAGS)

adm_lib_libzadm_la_SOURCES = \
	adm/lib/internal.h \
	adm/lib/json.h \
	adm/lib/json.c \
	adm/lib/conn.c \
	adm/lib/device.c \
	adm/lib/error.c \
	adm/lib/fota.c \
	adm/lib/log.c \
	adm/lib/protocol.c \
	adm/lib/rpc.c \
	adm/lib/store.c \
	adm/lib/tls.c
adm_lib_libzadm_la_CPPFLAGS = $(ADM_CPPFLAGS) -DBUILDING_LIBZADM
adm_lib_libzadm_la_CFLAGS = $(AM_CFLAGS)
adm_lib_libzadm_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBZADM_LT_VERSION) -no-undefined
adm_lib_libzadm_la_LIBADD = $(GNUTLS_LIBS) $(YAJL_LIBS) $(PTHREAD_LIBS) -lm

bin_PROGRAMS += adm/sandbox/zadm-sandbox
adm_sandbox_zadm_sandbox_SOURCES = \
	adm/sandbox/sandbox.h \
	adm/sandbox/main.c \
	adm/sandbox/server.c \
	adm/sandbox/control.c \
	adm/lib/json.h \
	adm/lib/json.c
adm_sandbox_zadm_sandbox_CPPFLAGS = $(ADM_CPPFLAGS)
adm_sandbox_zadm_sandbox_LDADD = $(GNUTLS_LIBS) $(YAJL_LIBS) $(PTHREAD_LIBS) -lm

noinst_PROGRAMS += adm/examples/zadm-demo
adm_examples_zadm_demo_SOURCES = adm/examples/zadm-demo.c
adm_examples_zadm_demo_CPPFLAGS = $(ADM_CPPFLAGS)
adm_examples_zadm_demo_LDADD = adm/lib/libzadm.la $(YAJL_LIBS)

# Tests: a Check suite (API, file store, the wire against an in-process fake server) and shell
# integration tests of zadm-demo against zadm-sandbox, plain and TLS, on 127.0.0.1.
check_PROGRAMS += tests/adm/test-zadm
tests_adm_test_zadm_SOURCES = tests/adm/test-zadm.c
tests_adm_test_zadm_CPPFLAGS = $(ADM_CPPFLAGS) $(CHECK_CFLAGS)
tests_adm_test_zadm_LDADD = adm/lib/libzadm.la $(CHECK_LIBS) $(YAJL_LIBS) $(PTHREAD_LIBS)
TESTS += tests/adm/test-zadm
TESTS += tests/adm/basic.sh
EXTRA_DIST += tests/adm/lib.sh tests/adm/basic.sh
TESTS += tests/adm/tls.sh
EXTRA_DIST += tests/adm/tls.sh
TESTS += tests/adm/fota.sh
EXTRA_DIST += tests/adm/fota.sh

dist_man_MANS += man/zadm-sandbox.1 man/libzadm.3
TESTS += tests/adm/valgrind.sh
EXTRA_DIST += tests/adm/valgrind.sh
# Hostile peers and bad input (docs/hardening.md): the control socket, and the sandbox's and the
# demo's answers to deep JSON, bad UTF-8, overflowing numbers, slowloris, EMFILE and the connection cap.
TESTS += tests/adm/sandbox-control.sh tests/adm/sandbox-faults.sh
EXTRA_DIST += tests/adm/sandbox-control.sh tests/adm/sandbox-faults.sh tests/adm/rawpeer.py

# bench/adm: built with the rest, run by hand (bench/adm/run.sh), never by make check.
noinst_PROGRAMS += bench/adm/zadm-bench
bench_adm_zadm_bench_SOURCES = bench/adm/zadm-bench.c
bench_adm_zadm_bench_CPPFLAGS = $(ADM_CPPFLAGS)
bench_adm_zadm_bench_LDADD = adm/lib/libzadm.la
EXTRA_DIST += bench/adm/run.sh bench/adm/paho-bench.c
