/* `kmsload fleet LOG... [--out DIR]`: the fleet a KMS host's event 12290 log shows, its findings
 * and fleet.json (eventlog/). */
#ifndef KMSLOAD_FLEET_MAIN_H
#define KMSLOAD_FLEET_MAIN_H

#define FLEET_EXIT_OK 0
#define FLEET_EXIT_USAGE 2 /* bad flags, unreadable logs, no event at all */

int fleet_main(int argc, char **argv);

#endif
