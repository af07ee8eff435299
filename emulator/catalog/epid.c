#include "epid.h"

#include <string.h>

/* Reads width digits (width 0: 1 to 6) followed by stop ('\0': the end; 'd': a digit, not
 * taken). Returns the position after the field and its stop, or NULL. */
static const char *field(const char *p, size_t width, char stop, unsigned long *value)
{
    size_t n = 0;
    unsigned long v = 0;
    while (p[n] >= '0' && p[n] <= '9' && n < (width ? width : 6))
        v = v * 10 + (unsigned long)(p[n++] - '0');
    if (n == 0 || (width && n != width))
        return NULL;
    *value = v;
    if (stop == 'd')
        return p[n] >= '0' && p[n] <= '9' ? p + n : NULL;
    if (p[n] != stop)
        return NULL;
    return stop ? p + n + 1 : p + n;
}

/* The seventh dash-separated field's digits before a '.', wherever the other fields are odd. */
static unsigned build_field(const char *text)
{
    const char *p = text;
    for (int dashes = 0; p && dashes < 6; dashes++) {
        p = strchr(p, '-');
        if (p)
            p++;
    }
    unsigned long build = 0;
    return p && field(p, 0, '.', &build) ? (unsigned)build : 0;
}

int epid_parse(const char *text, struct epid *out)
{
    /* PPPPP-GGGGG-KKK-KKKKKK-03-LLLL-BBBBB.0000-DDDYYYY; width 0: unpadded (LCID, build). */
    static const struct {
        size_t width;
        char stop;
    } shape[] = {{5, '-'}, {5, '-'}, {3, '-'}, {6, '-'}, {2, '-'},
                 {0, '-'}, {0, '.'}, {4, '-'}, {3, 'd'}, {4, '\0'}};
    unsigned long v[10] = {0};
    const char *p = text;
    memset(out, 0, sizeof *out);
    out->build = build_field(text);
    for (size_t i = 0; i < 10 && p; i++)
        p = field(p, shape[i].width, shape[i].stop, &v[i]);
    if (!p || v[7] != 0 || v[4] != 3)
        return -1;
    out->platform = (unsigned)v[0];
    out->group = (unsigned)v[1];
    out->key_id = v[2] * 1000000UL + v[3];
    out->channel = (unsigned)v[4];
    out->lcid = (unsigned)v[5];
    out->day = (unsigned)v[8];
    out->year = (unsigned)v[9];
    out->well_formed = true;
    return 0;
}

unsigned epid_build(const char *text)
{
    return build_field(text);
}

const char *epid_host_os(unsigned build)
{
    static const struct {
        unsigned build;
        const char *os;
    } builds[] = {
        {6002, "Windows Server 2008"},  {7601, "Windows Server 2008 R2"},
        {9200, "Windows Server 2012"},  {9600, "Windows Server 2012 R2"},
        {14393, "Windows Server 2016"}, {17763, "Windows Server 2019"},
        {20348, "Windows Server 2022"}, {26100, "Windows Server 2025"},
    };
    for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++)
        if (builds[i].build == build)
            return builds[i].os;
    return build >= 10240 ? "Windows 10 or later" : "unknown";
}
