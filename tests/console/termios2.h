/* termios2.h: the one function of termios2.c, kept apart from <termios.h> (see there). */
#ifndef ZTC_TESTS_TERMIOS2_H
#define ZTC_TESTS_TERMIOS2_H

/* The output speed the tty of fd holds, in bit/s; -1 when TCGETS2 fails. */
int test_tty_ospeed(int fd);

#endif
