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
