/*
 * The host's extended product ID (spec §9.1), read the one way every command reads it:
 * "PPPPP-GGGGG-KKK-KKKKKK-03-LLLL-BBBBB.0000-DDDYYYY", and the host OS its build stands for.
 * Pure: text in, fields out.
 */
#ifndef KMSLOAD_EPID_H
#define KMSLOAD_EPID_H

#include <stdbool.h>
#include <stddef.h>

struct epid {
    unsigned platform;    /* PPPPP: 55041, 05426, 06401 or 03612 (by host build, §9.1) */
    unsigned group;       /* GGGGG: the CSVLK group (206, 96, 4573, ...) */
    unsigned long key_id; /* KKK-KKKKKK joined: the key within the CSVLK's range */
    unsigned channel;     /* 03: volume */
    unsigned lcid;        /* the host's language (1033, 10249, ...) */
    unsigned build;       /* the host OS build (17763); 0 when the ePID names none */
    unsigned day, year;   /* DDDYYYY: the host key's activation date */
    bool well_formed;     /* every field present with its width (§9.1) */
};

/*
 * Splits text into its fields. The build is read on its own (the seventh dash-separated field,
 * 1 to 6 digits before a '.'), so an ePID with an odd field elsewhere still names its host build;
 * well_formed says whether everything else is as §9.1 writes it (channel 03, build minor 0000).
 * Returns 0 when well formed, -1 otherwise (then only build may be set).
 */
int epid_parse(const char *text, struct epid *out);
/* The host build an ePID names ("...-17763.0000-..." → 17763), 0 when it names none. */
unsigned epid_build(const char *text);
/* The host OS a build stands for: the genuine KMS host builds of §9.2 by name ("Windows Server
 * 2019"), "Windows 10 or later" for another build from 10240 on, "unknown" otherwise. */
const char *epid_host_os(unsigned build);

#endif
