/* proc.c — /proc/PID/stat fields (see proc.h). */
#include "errand/proc.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

bool er_proc_stat_field(long pid, int field, unsigned long long *out)
{
    char path[48] = "/proc/", digits[24];
    int nd = 0;
    if (pid <= 0)
        return false;
    do
        digits[nd++] = (char)('0' + pid % 10);
    while ((pid /= 10) > 0 && nd < (int)sizeof digits);
    size_t n = 6;
    while (nd > 0)
        path[n++] = digits[--nd];
    memcpy(path + n, "/stat", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[1024];
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0 || field < 3)
        return false;
    buf[len] = '\0';
    const char *p = strrchr(buf, ')');   /* the command name may hold spaces and ')' */
    for (int f = 2; f < field && p; f++) /* p is on the space before field f + 1 */
        p = strchr(p + 1, ' ');
    if (!p || p[1] < '0' || p[1] > '9')
        return false;
    unsigned long long v = 0;
    for (p++; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (unsigned long long)(*p - '0');
    *out = v;
    return true;
}
