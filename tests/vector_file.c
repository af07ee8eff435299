#include "vector_file.h"

#include "hex.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Appends one zeroed element to *arr (of *n elements of size sz); returns it or NULL. */
static void *grow(void *arr_ptr, size_t *n, size_t sz)
{
    void **arr = arr_ptr;
    void *p = realloc(*arr, (*n + 1) * sz);
    if (!p)
        return NULL;
    *arr = p;
    void *elem = (char *)p + *n * sz;
    memset(elem, 0, sz);
    (*n)++;
    return elem;
}

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

static FILE *open_vector(const char *dir, const char *name, const char *ext, char *err, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "r");
    if (!f)
        fail(err, cap, "cannot open %s", path);
    return f;
}

static int load_hex(FILE *f, struct vector_file *vf, char *err, size_t cap)
{
    char *line = NULL;
    size_t line_cap = 0;
    int lineno = 0, rc = 0;
    struct vf_stream *cur = NULL;
    struct vf_pdu meta = {0};

    while (getline(&line, &line_cap, f) >= 0) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0')
            continue;
        if (*s == '#') {
            int number;
            char dir[4], name[sizeof meta.meta_name];
            if (sscanf(s, "# stream %d", &number) == 1) {
                if (!(cur = grow(&vf->streams, &vf->n_streams, sizeof *cur))) {
                    rc = fail(err, cap, "out of memory");
                    break;
                }
                cur->number = number;
            } else if (sscanf(s, "# %3s %23s ptype=%u flags=%x frag_len=%u call_id=%u", dir, name,
                              &meta.meta_ptype, &meta.meta_flags, &meta.meta_frag_len,
                              &meta.meta_call_id) == 6 &&
                       (strcmp(dir, "c2s") == 0 || strcmp(dir, "s2c") == 0)) {
                meta.has_meta = true;
                snprintf(meta.meta_name, sizeof meta.meta_name, "%s", name);
            }
            continue;
        }
        char *sp = strchr(s, ' ');
        if (!sp) {
            rc = fail(err, cap, "line %d: no space between direction and hex", lineno);
            break;
        }
        *sp = '\0';
        bool c2s = strcmp(s, "c2s") == 0;
        if (!c2s && strcmp(s, "s2c") != 0) {
            rc = fail(err, cap, "line %d: direction \"%s\" is neither c2s nor s2c", lineno, s);
            break;
        }
        const char *hex = trim(sp + 1);
        if (!cur) { /* data before any "# stream" marker: an implicit first stream */
            if (!(cur = grow(&vf->streams, &vf->n_streams, sizeof *cur))) {
                rc = fail(err, cap, "out of memory");
                break;
            }
            cur->number = 1;
        }
        struct vf_pdu *pdu = grow(&cur->pdus, &cur->n_pdus, sizeof *pdu);
        size_t max = strlen(hex) / 2 + 1;
        uint8_t *data = pdu ? malloc(max) : NULL;
        if (!data) {
            rc = fail(err, cap, "out of memory");
            break;
        }
        int n = hex_decode(hex, data, max);
        if (n <= 0) {
            free(data);
            cur->n_pdus--;
            rc = fail(err, cap, "line %d: invalid hex", lineno);
            break;
        }
        *pdu = meta;
        pdu->c2s = c2s;
        pdu->data = data;
        pdu->len = (size_t)n;
        pdu->line = lineno;
        memset(&meta, 0, sizeof meta);
    }
    free(line);
    if (rc == 0 && vf->n_streams == 0)
        rc = fail(err, cap, "no PDUs");
    return rc;
}

static int load_txt(FILE *f, struct vector_file *vf, char *err, size_t cap)
{
    char *line = NULL;
    size_t line_cap = 0;
    int lineno = 0, rc = 0;
    struct vf_run *run = NULL;
    struct vf_block *block = NULL; /* the block key/value lines go into */

    while (getline(&line, &line_cap, f) >= 0) {
        lineno++;
        char *s = trim(line);
        if (strncmp(s, "===== ", 6) == 0) { /* not the "=====…" underlines */
            block = NULL;
            int number;
            if (sscanf(s, "===== client run %d:", &number) == 1) {
                if (!(run = grow(&vf->runs, &vf->n_runs, sizeof *run))) {
                    rc = fail(err, cap, "out of memory");
                    break;
                }
                run->number = number;
                const char *colon = strchr(s, ':');
                if (!(run->command = strdup(colon ? trim((char *)colon + 1) : ""))) {
                    rc = fail(err, cap, "out of memory");
                    break;
                }
            }
            continue;
        }
        if (*s == '\0') {
            if (block && block->n_kv) /* a blank line after the fields ends the block */
                block = NULL;
            continue;
        }
        bool is_request = strcmp(s, "Request Parameters") == 0;
        bool is_response = strcmp(s, "Response from KMS server") == 0;
        bool is_error = strncmp(s, "Error 0x", 8) == 0;
        if (is_request || is_response || is_error) {
            if (!run) { /* output before any "===== client run": an implicit first run */
                if (!(run = grow(&vf->runs, &vf->n_runs, sizeof *run)) ||
                    !(run->command = strdup(""))) {
                    rc = fail(err, cap, "out of memory");
                    break;
                }
                run->number = 1;
            }
            block = is_request ? grow(&run->requests, &run->n_requests, sizeof *block)
                               : grow(&run->responses, &run->n_responses, sizeof *block);
            if (!block) {
                rc = fail(err, cap, "out of memory");
                break;
            }
            block->line = lineno;
            if (is_error) {
                char *end;
                block->is_error = true;
                block->hresult = (uint32_t)strtoul(s + 6, &end, 16);
                if (end <= s + 8) {
                    rc = fail(err, cap, "line %d: no HRESULT after \"Error 0x\"", lineno);
                    break;
                }
                block = NULL;
            }
            continue;
        }
        char *sep = strstr(s, ": ");
        if (!block || !sep)
            continue; /* progress lines, underlines */
        *sep = '\0';
        struct vf_kv *kv = grow(&block->kv, &block->n_kv, sizeof *kv);
        if (!kv) {
            rc = fail(err, cap, "out of memory");
            break;
        }
        kv->key = strdup(trim(s));
        kv->value = strdup(trim(sep + 2));
        if (!kv->key || !kv->value) {
            rc = fail(err, cap, "out of memory");
            break;
        }
    }
    free(line);
    if (rc == 0 && vf->n_runs == 0)
        rc = fail(err, cap, "no client runs");
    return rc;
}

int vector_load(const char *dir, const char *name, struct vector_file *vf, char *err,
                size_t err_cap)
{
    memset(vf, 0, sizeof *vf);
    snprintf(vf->name, sizeof vf->name, "%s", name);
    char sub[256];
    FILE *f = open_vector(dir, name, "hex", err, err_cap);
    if (!f)
        return -1;
    int rc = load_hex(f, vf, sub, sizeof sub);
    fclose(f);
    if (rc)
        return fail(err, err_cap, "%s.hex: %s", name, sub);
    if (!(f = open_vector(dir, name, "txt", err, err_cap)))
        return -1;
    rc = load_txt(f, vf, sub, sizeof sub);
    fclose(f);
    if (rc)
        return fail(err, err_cap, "%s.txt: %s", name, sub);
    return 0;
}

static void free_blocks(struct vf_block *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < blocks[i].n_kv; j++) {
            free(blocks[i].kv[j].key);
            free(blocks[i].kv[j].value);
        }
        free(blocks[i].kv);
    }
    free(blocks);
}

void vector_free(struct vector_file *vf)
{
    for (size_t i = 0; i < vf->n_streams; i++) {
        for (size_t j = 0; j < vf->streams[i].n_pdus; j++)
            free(vf->streams[i].pdus[j].data);
        free(vf->streams[i].pdus);
    }
    free(vf->streams);
    for (size_t i = 0; i < vf->n_runs; i++) {
        free(vf->runs[i].command);
        free_blocks(vf->runs[i].requests, vf->runs[i].n_requests);
        free_blocks(vf->runs[i].responses, vf->runs[i].n_responses);
    }
    free(vf->runs);
    memset(vf, 0, sizeof *vf);
}

const char *vf_block_get(const struct vf_block *block, const char *key)
{
    for (size_t i = 0; i < block->n_kv; i++)
        if (strcmp(block->kv[i].key, key) == 0)
            return block->kv[i].value;
    return NULL;
}
