#include "name_hash.h"

#include "errmsg.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

int name_hash_init(struct name_hash *h, bool keep, const char *key_text, char *err, size_t err_len)
{
    memset(h, 0, sizeof *h);
    h->keep = keep;
    if (key_text) {
        size_t n = strlen(key_text);
        if (n < 8 || n > NAME_HASH_KEY_MAX)
            return errmsg_set(err, err_len, "--hash-key: expected 8..%d characters (got %zu)",
                              NAME_HASH_KEY_MAX, n);
        memcpy(h->key, key_text, n);
        h->key_len = n;
        return 0;
    }
    h->key_len = 32;
    if (RAND_bytes(h->key, (int)h->key_len) != 1)
        return errmsg_set(err, err_len, "cannot draw a random key for the name hashes");
    return 0;
}

static void hashed(const struct name_hash *h, const char *prefix, const char *text, char *out,
                   size_t cap)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), h->key, (int)h->key_len, (const unsigned char *)text, strlen(text), mac,
         &len);
    char hex[17];
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    snprintf(out, cap, "%s%s", prefix, hex);
}

void name_hash_fqdn(const struct name_hash *h, const char *fqdn, char *out, size_t cap)
{
    if (h->keep) {
        snprintf(out, cap, "%s", fqdn);
        return;
    }
    char lower[256];
    size_t i = 0;
    for (; fqdn[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)fqdn[i]);
    lower[i] = '\0';
    hashed(h, "host-", lower, out, cap);
}

void name_hash_cmid(const struct name_hash *h, const struct guid *cmid, char *out, size_t cap)
{
    char g[GUID_TEXT_LEN + 1];
    guid_format(cmid, g);
    if (h->keep)
        snprintf(out, cap, "%s", g);
    else
        hashed(h, "cmid-", g, out, cap);
}
