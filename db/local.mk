# db/local.mk: the built-in board database, installed to $(boarddbdir).
