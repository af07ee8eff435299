#include "probe_cmid.h"

#include "client_random.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void guid_v4(struct guid *cmid)
{
    cmid->b[7] = (uint8_t)((cmid->b[7] & 0x0f) | 0x40); /* version 4 */
    cmid->b[8] = (uint8_t)((cmid->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

void probe_cmid_stable(struct guid *cmid)
{
    char seed[256] = "";
    FILE *f = fopen("/etc/machine-id", "r");
    if (!f || !fgets(seed, sizeof seed, f))
        gethostname(seed, sizeof seed - 1);
    if (f)
        fclose(f);
    probe_cmid_from_seed(seed, cmid);
}

void probe_cmid_from_seed(const char *seed, struct guid *cmid)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    char input[300];
    int n = snprintf(input, sizeof input, "kmsload-probe-cmid:%s", seed);
    if (n < 0 || (size_t)n >= sizeof input)
        n = (int)strlen(input); /* a longer seed: its first 280 characters */
    EVP_Digest(input, (size_t)n, md, &md_len, EVP_sha256(), NULL);
    memcpy(cmid->b, md, 16);
    guid_v4(cmid);
}

void probe_cmid_random(struct guid *cmid)
{
    client_random_bytes(cmid->b, 16);
    guid_v4(cmid);
}
