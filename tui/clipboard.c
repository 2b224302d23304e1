/* clipboard.c — /copy: text to the system clipboard from a terminal program.
 *
 * The terminal itself is asked first, with OSC 52 (xterm's "set selection"
 * escape; tmux, kitty, WezTerm, foot, iTerm2 and others honour it, also over
 * ssh).  Where a local display is set and its clipboard tool is installed
 * (wl-copy on Wayland, xclip on X11) the text is given to it too, since not
 * every terminal takes OSC 52.  Main thread only. */
#include "tui.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Terminals cap what one OSC 52 may carry; past this the tool is the way. */
#define OSC52_MAX (512 * 1024)

static bool osc52(const char *text, size_t len)
{
    if (len > OSC52_MAX)
        return false;
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, "\033]52;c;");
    er_base64_encode(&b, text, len, false);
    er_buf_puts(&b, "\a");
    fflush(stdout);
    bool ok = write(STDOUT_FILENO, b.ptr, b.len) == (ssize_t)b.len;
    er_buf_release(&b);
    return ok;
}

/* wl-copy or xclip, when there is a display for it. */
static const char *desktop_tool(void)
{
    static const struct {
        const char *display, *tool, *cmd;
    } tools[] = {
        { "WAYLAND_DISPLAY", "wl-copy", "wl-copy" },
        { "DISPLAY", "xclip", "xclip -selection clipboard" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(tools); i++) {
        if (!getenv(tools[i].display) || !*getenv(tools[i].display))
            continue;
        char *path = er_sandbox_which(tools[i].tool);
        free(path);
        if (path)
            return tools[i].cmd;
    }
    return NULL;
}

static bool via_tool(const char *cmd, const char *text, size_t len)
{
    FILE *p = popen(cmd, "w");
    if (!p)
        return false;
    bool ok = fwrite(text, 1, len, p) == len;
    return pclose(p) == 0 && ok;
}

int tui_clipboard_copy(const char *text, size_t len, char *how, size_t howsize)
{
    bool term = osc52(text, len);
    const char *cmd = desktop_tool();
    bool tool = cmd && via_tool(cmd, text, len);
    if (!term && !tool)
        return -1;
    snprintf(how, howsize, "%s%s%s", term ? "the terminal (OSC 52)" : "",
             term && tool ? " and " : "", tool ? cmd : "");
    return 0;
}
