/* `kmsload check`: a Nagios/Icinga plugin (client/check_plugin.h). */
#ifndef KMSLOAD_CHECK_H
#define KMSLOAD_CHECK_H

/* Reads its own command line (argv[0] is "check"): usage errors are UNKNOWN (3), as the plugin
 * guidelines want, not kmsload's usual 2. Returns the exit status 0..3. */
int check_main(int argc, char **argv);
/* The --help text. */
extern const char check_usage[];

#endif
