/*
 * The imported fleet as a scenario kmsload run accepts: fleet.ini (replay: the populations per
 * product and licence state with their machine counts, VM share, clones, join and leave times,
 * and the cadence the host gave them) and migration.ini (the same fleet between the old host,
 * with the keys its log shows, and a new one with the given keys, on a DNS timeline).
 *
 * The scenario format has no SRV TTL or replication delay: what clients see of a DNS change is
 * modelled by moving the record's publish_at/withdraw_at by the replication delay plus the TTL
 * (the last client to look sees the change that late), and the file says so in its comments.
 */
#ifndef KMSLOAD_ESTATE_SCENARIO_H
#define KMSLOAD_ESTATE_SCENARIO_H

#include "estate_import.h"

#include <stddef.h>
#include <stdint.h>

#define ESTATE_SCENARIO_POPULATIONS 16 /* the scenario format's limit */

struct estate_migration {
    const char *old_keys; /* host keys of the old host, "ws2012r2,office2016" */
    const char *new_keys;
    int64_t publish_at_s;      /* the new record is added to DNS */
    int64_t withdraw_old_at_s; /* the old record is removed; < 0 never */
    int64_t switch_off_old_at_s;
    int64_t srv_ttl_s;
    int64_t replication_delay_s;
    int64_t duration_s;
};

/*
 * Writes the scenario into a new string (*text, to free). migration NULL: the replay. Products
 * the catalogue does not know, and populations beyond the format's 16, are listed in comments.
 * Returns 0, or -1 with a message.
 */
int estate_scenario_text(const struct estate *e, const char *origin,
                         const struct estate_migration *migration, char **text, char *err,
                         size_t err_len);

/* The host's intervals as the log shows them (medians over products), in minutes, bounded to
 * what a host may send (15 min .. 30 days); 120 and 10080 when the log has no such interval. */
unsigned estate_activation_minutes(const struct estate *e);
unsigned estate_renewal_minutes(const struct estate *e);

/* Host keys that would answer what the log shows answered and refuse what it shows refused, as
 * a comma list ("" when none answered). */
void estate_infer_keys(const struct estate *e, char *out, size_t cap);

#endif
