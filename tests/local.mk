# tests/local.mk: make check: Check unit suites and integration tests under umockdev.
