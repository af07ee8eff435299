#!/bin/bash
# The image's HEALTHCHECK: whether the kmsload command the container runs (PID 1, or
# $KMSLOAD_HEALTH_PID) is serving. Sends no KMS request, so no host count changes.
#   host:  its --listen port accepts a TCP connection (127.0.0.1 for a wildcard address), and
#          with --metrics the /metrics page answers 200
#   watch: with --metrics the /metrics page answers 200 (without, a running watch is healthy)
#   other commands (run, probe, ...): healthy while running
# Exit 0 healthy, 1 not (the reason on stdout, which docker inspect shows).
set -u
pid=${KMSLOAD_HEALTH_PID:-1}
mapfile -d "" args <"/proc/$pid/cmdline" 2>/dev/null && [ ${#args[@]} -gt 0 ] || { echo "no process $pid"; exit 1; }

# "ADDR:PORT" or "PORT" into host and port; a wildcard or empty address is reached on loopback.
split_addr() {
    local spec=$1 def_host=$2
    port=${spec##*:}
    host=${spec%:*}
    [ "$host" = "$spec" ] && host=$def_host
    host=${host#[}
    host=${host%]}
    case $host in "" | 0.0.0.0) host=127.0.0.1 ;; "::") host=::1 ;; esac
}

tcp_open() { # host port
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

http_ok() { # host port path
    local status
    exec 3<>"/dev/tcp/$1/$2" 2>/dev/null || return 1
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$3" "$1" >&3
    IFS= read -r -t 5 status <&3 || status=
    exec 3<&-
    [[ $status == HTTP/1.?" 200"* ]]
}

command=
listen=()
metrics=
for ((i = 0; i < ${#args[@]}; i++)); do
    a=${args[i]}
    case $a in
    host | watch | run | probe | report | merge | coverage | discover | scenarios | fleet)
        [ -z "$command" ] && command=$a ;;
    -l | --listen) listen+=("${args[i + 1]:-}"); i=$((i + 1)) ;;
    --listen=*) listen+=("${a#--listen=}") ;;
    --metrics) metrics=${args[i + 1]:-}; i=$((i + 1)) ;;
    --metrics=*) metrics=${a#--metrics=} ;;
    -m) [ "$command" = watch ] && { metrics=${args[i + 1]:-}; i=$((i + 1)); } ;;
    esac
done

if [ -n "$metrics" ]; then
    split_addr "$metrics" 127.0.0.1
    http_ok "$host" "$port" /metrics || { echo "kmsload $command: no 200 from http://$host:$port/metrics"; exit 1; }
fi
if [ "$command" = host ]; then
    [ ${#listen[@]} -gt 0 ] || listen=(127.0.0.1:1688)
    for spec in "${listen[@]}"; do
        split_addr "$spec" 127.0.0.1
        [ "$port" = 0 ] && continue # a free port chosen at start: not known here
        tcp_open "$host" "$port" || { echo "kmsload host: nothing accepts on $host:$port"; exit 1; }
    done
fi
echo "kmsload ${command:-?}: healthy"
exit 0
