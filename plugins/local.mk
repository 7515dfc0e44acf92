# plugins/local.mk: the built-in board plugin modules.
