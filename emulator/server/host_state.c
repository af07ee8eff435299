#include "host_state.h"

#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_FORMAT "kmsload-host-state"
#define STATE_VERSION 1

static json_t *state_to_json(const struct kms_host *host)
{
    const struct catalog *cat = host->cfg.catalog;
    json_t *root = json_object(), *apps = json_array();
    char g[GUID_TEXT_LEN + 1];
    json_object_set_new(root, "format", json_string(STATE_FORMAT));
    json_object_set_new(root, "version", json_integer(STATE_VERSION));
    json_object_set_new(root, "client_clock", json_integer((json_int_t)host->client_clock));
    for (size_t a = 0; a < cat->n_apps; a++) {
        const struct client_cache *cache = &host->caches[a];
        json_t *app = json_object(), *clients = json_array();
        guid_format(&cat->apps[a].id, g);
        json_object_set_new(app, "application", json_string(cat->apps[a].key));
        json_object_set_new(app, "id", json_string(g));
        json_object_set_new(app, "max_n_policy", json_integer(cache->max_n_policy));
        for (size_t i = 0; i < cache->n; i++) {
            json_t *c = json_object();
            guid_format(&cache->entries[i].cmid, g);
            json_object_set_new(c, "cmid", json_string(g));
            json_object_set_new(c, "last_seen",
                                json_integer((json_int_t)cache->entries[i].last_seen));
            json_array_append_new(clients, c);
        }
        json_object_set_new(app, "clients", clients);
        json_array_append_new(apps, app);
    }
    json_object_set_new(root, "applications", apps);
    return root;
}

int host_state_save(const struct kms_host *host, const char *path, char *err, size_t err_len)
{
    json_t *root = state_to_json(host);
    char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (!text) {
        snprintf(err, err_len, "cannot write state file %s: out of memory", path);
        return -1;
    }
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (with_nl) {
        text = with_nl;
        text[len++] = '\n';
        text[len] = '\0';
    }
    char why[600];
    int rc = atomic_file_write(path, text, len, 0644, why, sizeof why);
    if (rc != 0)
        snprintf(err, err_len, "cannot save state file: %s", why);
    free(text);
    return rc;
}

/* The directory holding path and its last component. */
static void split_path(const char *path, char *dir, size_t dir_cap, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dir_cap, ".");
        *base = path;
    } else {
        snprintf(dir, dir_cap, "%.*s", slash == path ? 1 : (int)(slash - path), path);
        *base = slash + 1;
    }
}

int host_state_prepare(const char *path, unsigned *removed, char *err, size_t err_len)
{
    *removed = 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "--state %s is a directory; give a file name (e.g. %s/state.json)",
                 path, path);
        return -1;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "--state %s is not a regular file", path);
        return -1;
    }
    char dir[4096];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    if (!*base) {
        snprintf(err, err_len, "--state %s names a directory; give a file name", path);
        return -1;
    }
    /* Leftovers of a host killed while saving: nothing reads them, and they would pile up. */
    size_t base_len = strlen(base), infix_len = strlen(ATOMIC_FILE_TMP_INFIX);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_len, "cannot use --state %s: directory %s: %s", path, dir,
                 strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, base_len) != 0 ||
            strncmp(e->d_name + base_len, ATOMIC_FILE_TMP_INFIX, infix_len) != 0)
            continue;
        char stale[4096 + 256];
        snprintf(stale, sizeof stale, "%s/%s", dir, e->d_name);
        if (unlink(stale) == 0)
            (*removed)++;
    }
    closedir(d);
    /* The saves create a file beside path and rename it: try that now, not at the first save. */
    char probe[4096 + 64];
    if ((size_t)snprintf(probe, sizeof probe, "%s" ATOMIC_FILE_TMP_INFIX "check-%ld", path,
                         (long)getpid()) >= sizeof probe) {
        snprintf(err, err_len, "--state %s: path too long", path);
        return -1;
    }
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "cannot save --state %s: cannot create files in %s: %s", path, dir,
                 strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    return 0;
}

static int fail(char *err, size_t err_len, const char *path, const char *what)
{
    snprintf(err, err_len, "state file %s: %s (not loaded: fix or remove the file)", path, what);
    return -1;
}

/* The header: format, version and a client_clock no further ahead than a client clock may get. */
static int check_header(const struct kms_host *host, json_t *root, const char *path, char *err,
                        size_t err_len)
{
    char what[256];
    const char *format = json_string_value(json_object_get(root, "format"));
    json_t *clock = json_object_get(root, "client_clock");
    if (!format || strcmp(format, STATE_FORMAT) != 0 ||
        json_integer_value(json_object_get(root, "version")) != STATE_VERSION)
        return fail(err, err_len, path, "not a kmsload host state file of version 1");
    if (!json_is_integer(clock) || json_integer_value(clock) < 0)
        return fail(err, err_len, path, "client_clock must be a non-negative integer");
    uint64_t real = host_real_now(host);
    if ((uint64_t)json_integer_value(clock) > real &&
        (uint64_t)json_integer_value(clock) - real > HOST_CLIENT_CLOCK_HORIZON) {
        snprintf(what, sizeof what,
                 "client_clock is %.0f days ahead of the system clock, more than the %.0f a "
                 "client clock may get (a client sent an absurd time)",
                 (double)((uint64_t)json_integer_value(clock) - real) /
                     (86400.0 * FILETIME_PER_SECOND),
                 (double)HOST_CLIENT_CLOCK_HORIZON / (86400.0 * FILETIME_PER_SECOND));
        return fail(err, err_len, path, what);
    }
    return 0;
}

/* Slack for a system clock set back a little since a real-clock host saved its file. */
#define STATE_CLOCK_SLACK (86400ULL * FILETIME_PER_SECOND)

/* The bytes one saved client takes at most (cmid, last_seen, indentation), and one application
 * and the header besides its clients: a file larger than every application full cannot be one
 * this host wrote, and is refused before it is parsed. */
#define STATE_BYTES_PER_CLIENT 256
#define STATE_BYTES_PER_APP 4096
#define STATE_BYTES_HEADER 65536

/* One application's "clients" array into its (emptied) cache: each CMID once, in capacity, none
 * seen after the file's clock (the latest time the host knew: client_clock or the real clock). */
static int load_clients(struct client_cache *cache, const struct catalog_app *capp, json_t *clients,
                        uint64_t file_clock, const char *path, char *err, size_t err_len)
{
    char what[256];
    cache->n = 0;
    if (json_array_size(clients) > client_cache_capacity(cache)) {
        snprintf(what, sizeof what, "application %s lists %zu clients, capacity is %u", capp->key,
                 json_array_size(clients), client_cache_capacity(cache));
        return fail(err, err_len, path, what);
    }
    size_t ci;
    json_t *client;
    json_array_foreach(clients, ci, client)
    {
        struct guid cmid;
        const char *cmid_text = json_string_value(json_object_get(client, "cmid"));
        json_t *seen = json_object_get(client, "last_seen");
        if (!cmid_text || guid_parse(cmid_text, &cmid) != 0 || !json_is_integer(seen) ||
            json_integer_value(seen) < 0) {
            snprintf(what, sizeof what,
                     "application %s, client %zu: needs \"cmid\" (GUID) and \"last_seen\" "
                     "(FILETIME)",
                     capp->key, ci + 1);
            return fail(err, err_len, path, what);
        }
        uint64_t seen_at = (uint64_t)json_integer_value(seen);
        if (seen_at > file_clock + STATE_CLOCK_SLACK) {
            snprintf(what, sizeof what,
                     "application %s, client %zu: last_seen is %.0f days after the file's clock "
                     "(client_clock or the system clock): the client would never expire",
                     capp->key, ci + 1,
                     (double)(seen_at - file_clock) / (86400.0 * FILETIME_PER_SECOND));
            return fail(err, err_len, path, what);
        }
        if (client_cache_find(cache, &cmid)) {
            snprintf(what, sizeof what, "application %s: CMID %s listed twice", capp->key,
                     cmid_text);
            return fail(err, err_len, path, what);
        }
        cache->entries[cache->n].cmid = cmid;
        cache->entries[cache->n].last_seen = (uint64_t)json_integer_value(seen);
        cache->n++;
    }
    return 0;
}

/* Application number ai (from 0) of the file into its scratch cache. */
static int load_app(const struct catalog *cat, struct client_cache *scratch, bool *listed,
                    size_t ai, json_t *app, uint64_t file_clock, const char *path, char *err,
                    size_t err_len)
{
    char what[256];
    struct guid id;
    const char *id_text = json_string_value(json_object_get(app, "id"));
    json_t *clients = json_object_get(app, "clients");
    json_t *max_np = json_object_get(app, "max_n_policy");
    if (!id_text || guid_parse(id_text, &id) != 0 || !json_is_array(clients) ||
        (max_np && (!json_is_integer(max_np) || json_integer_value(max_np) < 0 ||
                    json_integer_value(max_np) > HOST_MAX_N_POLICY))) {
        snprintf(what, sizeof what,
                 "application %zu: needs \"id\" (GUID), \"clients\" (array) and, if given, "
                 "\"max_n_policy\" (0..1000)",
                 ai + 1);
        return fail(err, err_len, path, what);
    }
    const struct catalog_app *capp = catalog_app_by_id(cat, &id);
    if (!capp) {
        snprintf(what, sizeof what, "application %s is not in the catalogue", id_text);
        return fail(err, err_len, path, what);
    }
    if (listed[capp - cat->apps]) {
        snprintf(what, sizeof what, "application %s is listed twice", capp->key);
        return fail(err, err_len, path, what);
    }
    listed[capp - cat->apps] = true;
    struct client_cache *cache = &scratch[capp - cat->apps];
    /* Files written before the capacity followed N_Policy have no max_n_policy: those hosts
     * sized the cache at 2 x the application's threshold, so that is what they had seen. */
    cache->max_n_policy = max_np ? (unsigned)json_integer_value(max_np) : capp->threshold;
    return load_clients(cache, capp, clients, file_clock, path, err, err_len);
}

/* Every application into scratch copies of the caches, then (all valid) into the host. */
static int load_apps(struct kms_host *host, json_t *apps, uint64_t file_clock, const char *path,
                     char *err, size_t err_len)
{
    const struct catalog *cat = host->cfg.catalog;
    /* Validate everything into scratch caches first, so a bad file changes nothing. */
    static const size_t cache_size = sizeof(struct client_cache);
    struct client_cache *scratch = calloc(cat->n_apps, cache_size);
    bool *listed = calloc(cat->n_apps ? cat->n_apps : 1, sizeof *listed);
    if (!scratch || !listed) {
        free(scratch);
        free(listed);
        return fail(err, err_len, path, "out of memory");
    }
    memcpy(scratch, host->caches, cat->n_apps * cache_size);
    size_t ai;
    json_t *app;
    json_array_foreach(apps, ai, app)
    {
        if (load_app(cat, scratch, listed, ai, app, file_clock, path, err, err_len)) {
            free(scratch);
            free(listed);
            return -1;
        }
    }
    memcpy(host->caches, scratch, cat->n_apps * cache_size);
    free(scratch);
    free(listed);
    return 0;
}

int host_state_load(struct kms_host *host, const char *path, bool *loaded, char *err,
                    size_t err_len)
{
    char what[256];
    *loaded = false;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(what, sizeof what, "cannot open: %s", strerror(errno));
        return fail(err, err_len, path, what);
    }
    /* The size first: a file no host could have written is refused without parsing it. */
    struct stat st;
    size_t n_apps = host->cfg.catalog->n_apps;
    uint64_t most = STATE_BYTES_HEADER +
                    (uint64_t)n_apps * (STATE_BYTES_PER_APP + (uint64_t)CLIENT_CACHE_MAX_CAPACITY *
                                                                  STATE_BYTES_PER_CLIENT);
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(err, err_len, path, "not a regular file");
    }
    if ((uint64_t)st.st_size > most) {
        fclose(f);
        snprintf(what, sizeof what,
                 "%.1f MB, larger than the state of %zu applications of at most %u clients each "
                 "can be (%.1f MB)",
                 (double)st.st_size / 1e6, n_apps, (unsigned)CLIENT_CACHE_MAX_CAPACITY,
                 (double)most / 1e6);
        return fail(err, err_len, path, what);
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        snprintf(what, sizeof what, "line %d: %s", jerr.line, jerr.text);
        return fail(err, err_len, path, what);
    }
    int rc = check_header(host, root, path, err, err_len);
    json_t *apps = json_object_get(root, "applications");
    if (rc == 0 && !json_is_array(apps))
        rc = fail(err, err_len, path, "\"applications\" must be an array");
    /* The latest time the host knew when it saved: its client clock, or the real clock. */
    uint64_t file_clock = (uint64_t)json_integer_value(json_object_get(root, "client_clock"));
    if (host_real_now(host) > file_clock)
        file_clock = host_real_now(host);
    if (rc == 0)
        rc = load_apps(host, apps, file_clock, path, err, err_len);
    if (rc == 0) {
        host->client_clock = (uint64_t)json_integer_value(json_object_get(root, "client_clock"));
        *loaded = true;
    }
    json_decref(root);
    return rc;
}
