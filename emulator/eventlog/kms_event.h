/*
 * One KMS host event 12290 ("An activation request has been processed"), whatever file it came
 * from. The nine insertion strings, in the order the host logs them (Microsoft's Volume
 * Activation operations guide, table of KMS events; Get-WinEvent's Properties[0..8]):
 *   1 HRESULT answered   2 N_Policy (minimum count the client needs)   3 client FQDN
 *   4 CMID   5 client time (UTC)   6 VM flag   7 licence status (0..6, spec §3.2)
 *   8 minutes to the state's expiration   9 activation (SKU) ID
 * The event itself carries its time (TimeCreated); the application counter is derived from the
 * SKU through the catalogue (the event does not log the AppID), except in `kmsload host --log`
 * CSV, which also logs the application and the count answered.
 */
#ifndef KMSLOAD_KMS_EVENT_H
#define KMSLOAD_KMS_EVENT_H

#include "wintypes.h"

#include <stddef.h>
#include <stdint.h>

#define KMS_EVENT_ID 12290
#define KMS_EVENT_FIELDS 9
#define KMS_EVENT_FQDN_MAX 256      /* DNS names are at most 253 characters */
#define KMS_EVENT_N_POLICY_MAX 1000 /* a host refuses more (spec §8.1) */

struct kms_event {
    uint64_t time;    /* FILETIME the host logged the request */
    uint32_t hresult; /* 0: answered (the count may still be below N_Policy) */
    unsigned n_policy;
    char fqdn[KMS_EVENT_FQDN_MAX];
    struct guid cmid;
    uint64_t client_time; /* FILETIME, 0 when the text is not a time we read */
    unsigned vm;          /* 0 physical, 1 virtual */
    unsigned license_status;
    uint32_t minutes_to_expiration;
    struct guid sku;
    int app;    /* catalogue application the source names (host --log), -1: from the SKU */
    long count; /* count the host answered (host --log, answered requests), -1: not logged */
};

/*
 * Fills ev (time, app and count untouched) from the nine insertion strings. Every field is
 * checked: an HRESULT in hex ("0x0", "0xC004F042") or decimal, N_Policy 0..1000, a FQDN of
 * 1..255 printable characters, a CMID and SKU ID in GUID form, VM 0/1, licence status 0..6,
 * minutes 0..2^32-1. Returns 0, or -1 with a message naming the field and the value.
 */
int kms_event_from_fields(struct kms_event *ev, const char *const fields[KMS_EVENT_FIELDS],
                          char *err, size_t err_len);

/*
 * Where the nine fields start among n values: the first value that reads as an HRESULT with
 * eight values after it (some exports carry a leading value). -1 when none does.
 */
int kms_event_locate_fields(const char *const *values, size_t n);

/*
 * Splits the comma-joined "Info" line of the event's message (or a Properties column joined with
 * commas) into values, in place. Returns how many (at most max).
 */
size_t kms_event_split(char *text, const char **values, size_t max);

/*
 * A time as exports write it: ISO 8601 ("2026-12-07T23:18:38.1234567Z", an offset, or a space
 * instead of T; no zone: UTC), "YYYY/M/D H:MM[:SS]" (the client time in the event's message),
 * "/Date(MS)/" (Windows PowerShell's ConvertTo-Json). Years 1970..2199. Returns 0 or -1.
 */
int kms_event_parse_time(const char *text, uint64_t *filetime);

#endif
