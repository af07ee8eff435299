# bash completion for kmsload: commands, each command's flags, shipped scenario names, host keys,
# catalogue products and the fixed values of some flags. Everything is read from the program
# itself (kmsload --help, kmsload COMMAND --help, kmsload scenarios, --list-host-keys,
# --list-products), so it completes what the installed version accepts.
# Installed as share/bash-completion/completions/kmsload; or: source docs/completion/kmsload.bash

# The words kmsload prints for a listing, one per line: _kmsload_list PROGRAM WHAT
_kmsload_list()
{
    local prog=$1
    case $2 in
    commands)
        "$prog" --help 2>/dev/null |
            awk '/^Commands:/ { on = 1; next } on && /^ *$/ { exit } on && /^  [a-z]/ { print $1 }'
        ;;
    scenarios)
        "$prog" scenarios 2>/dev/null | awk 'NR > 1 && /^  [a-z0-9]/ { print $1 }'
        ;;
    host-keys)
        "$prog" host --list-host-keys 2>/dev/null | awk 'NR > 1 && /^[a-z0-9]/ { print $1 }'
        ;;
    products)
        "$prog" probe --list-products 2>/dev/null | awk 'NR > 1 && /^[a-z0-9]/ { print $1 }'
        ;;
    flags:*)
        "$prog" "${2#flags:}" --help 2>/dev/null |
            grep -oE -- '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[ ,]*//' | sort -u
        ;;
    esac
}

# Completes cur as one item of a comma-separated list of words.
_kmsload_comma_list()
{
    local cur=$1 words=$2 head=
    [[ $cur == *,* ]] && head=${cur%,*},
    local w
    COMPREPLY=()
    for w in $(compgen -W "$words" -- "${cur##*,}"); do
        COMPREPLY+=("$head$w")
    done
    [[ ${#COMPREPLY[@]} -gt 0 ]] && compopt -o nospace 2>/dev/null
    return 0
}

_kmsload()
{
    local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=
    [[ $COMP_CWORD -gt 0 ]] && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()

    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$(_kmsload_list "$prog" commands) --help --version" -- "$cur"))
        return 0
    fi
    local cmd=${COMP_WORDS[1]}

    # Values of the flags that take one.
    case $prev in
    --host-key)
        _kmsload_comma_list "$cur" "$(_kmsload_list "$prog" host-keys)"
        return 0
        ;;
    -p | --product)
        COMPREPLY=($(compgen -W "$(_kmsload_list "$prog" products)" -- "$cur"))
        return 0
        ;;
    --products | --require)
        [[ $cmd == host || $cmd == watch || $cmd == coverage ]] || { COMPREPLY=($(compgen -f -- "$cur")); return 0; }
        _kmsload_comma_list "$cur" "$(_kmsload_list "$prog" products)"
        return 0
        ;;
    --clock) COMPREPLY=($(compgen -W "real client" -- "$cur")); return 0 ;;
    --target-clock) COMPREPLY=($(compgen -W "detect client real" -- "$cur")); return 0 ;;
    --cmid) COMPREPLY=($(compgen -W "stable random" -- "$cur")); return 0 ;;
    --ndr64 | --btfn) COMPREPLY=($(compgen -W "on off" -- "$cur")); return 0 ;;
    -P | --protocol) COMPREPLY=($(compgen -W "4 5 6" -- "$cur")); return 0 ;;
    -o | --out) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    --catalog | --log | --state | --summary-md | --markdown | --scenario | --modules)
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
        ;;
    -t | --target | -l | --listen | --metrics | -m | --seed | --set | --shard | --threads | \
        --max-rate | --max-wall | --stop-after-failures | --population | --dns-server | \
        --timeout | -i | --interval | -c | --count | --cmid-seed | --fault | --build | \
        -A | --activation-interval | -R | --renewal-interval | --max-connections | \
        --idle-timeout | --pdu-timeout | --clock-step | -w | --workstation | -n | --n-policy | \
        --license-status | --binding-expiration | --clock-skew | --app | --kms | --sku | \
        --cmid-prev | --keep-previous | --max-probes | --warning | --critical)
        return 0 # a value kmsload cannot guess
        ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_kmsload_list "$prog" "flags:$cmd")" -- "$cur"))
        return 0
    fi
    case $cmd in
    run)
        # A shipped scenario's name, or a scenario file.
        COMPREPLY=($(compgen -W "$(_kmsload_list "$prog" scenarios)" -- "$cur"))
        COMPREPLY+=($(compgen -f -X '!*.ini' -- "$cur") $(compgen -d -- "$cur"))
        ;;
    report | merge) COMPREPLY=($(compgen -d -- "$cur")) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
    return 0
}
complete -F _kmsload kmsload
