# adm/local.mk: libzadm, zadm-sandbox, the examples and their tests.
