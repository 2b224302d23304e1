/* term.c — what the environment says about output to a terminal: whether
 * colour is wanted (no-color.org).  The CLI and the TUI both ask. */
#include "cli.h"

#include <stdlib.h>
#include <sys/ioctl.h>

int cli_term_cols(int fd)
{
    struct winsize ws;
    return ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

bool cli_colour(void)
{
    const char *no_colour = getenv("NO_COLOR");
    return !no_colour || !*no_colour;
}
