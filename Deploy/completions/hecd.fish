function __hecd_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __hecd_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __hecd_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __hecd_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __hecd_parse_tokens -S
    set -l unparsed_tokens (__hecd_tokens -pc)
    switch $unparsed_tokens[1]
    case 'hecd'
        __hecd_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'agent'
            __hecd_parse_subcommand 0 'manifests=' 'docker=' 'registry-auth=' 'agent-id=' 'resync=' 'backoff-initial=' 'backoff-max=' 'backoff-reset=' 'parallel=' 'log-level=' 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'host-ip=' 'host-interface=' 'ttl=' 'drain=' 'keep-registered' 'allow-privileged' 'allow-host-namespaces' 'allow-devices' 'allow-cap=+' 'allow-bind=+' 'allow-docker-socket' 'cluster' 'host-labels=' 'no-schedule' 'failover-delay=' 'hecd-prefix=' 'metrics-addr=' 'log-format=' 'version' 'h/help'
        case 'validate'
            __hecd_parse_subcommand 1 'policy' 'allow-privileged' 'allow-host-namespaces' 'allow-devices' 'allow-cap=+' 'allow-bind=+' 'allow-docker-socket' 'version' 'h/help'
        case 'status'
            __hecd_parse_subcommand 0 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'hecd-prefix=' 'json' 'watch' 'interval=' 'version' 'h/help'
        case 'render'
            __hecd_parse_subcommand 0 'confdir=' 'interval=' 'prefix=' 'keep-stage-file' 'backend=' 'file=+' 'filter=' 'debounce=' 'max-wait=' 'onetime' 'noop' 'sync-only' 'dest-root=' 'command-timeout=' 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'log-level=' 'metrics-addr=' 'log-format=' 'version' 'h/help'
        case 'apply'
            __hecd_parse_subcommand 1 'dry-run' 'prune' 'watch' 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'hecd-prefix=' 'version' 'h/help'
        case 'scale'
            __hecd_parse_subcommand -r 1 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'hecd-prefix=' 'version' 'h/help'
        case 'rm'
            __hecd_parse_subcommand -r 1 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'hecd-prefix=' 'version' 'h/help'
        case 'apps'
            __hecd_parse_subcommand 0 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'hecd-prefix=' 'version' 'h/help'
        case 'rebalance'
            __hecd_parse_subcommand -r 1 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'hecd-prefix=' 'version' 'h/help'
        case 'drain'
            __hecd_parse_subcommand 1 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'hecd-prefix=' 'version' 'h/help'
        case 'undrain'
            __hecd_parse_subcommand 1 'etcd=' 'etcd-user=' 'etcd-ca=' 'etcd-cert=' 'etcd-key=' 'hecd-prefix=' 'version' 'h/help'
        case 'help'
            __hecd_parse_subcommand -r 1 'version'
        end
    end
end

function __hecd_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __hecd_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __hecd_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __hecd_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__hecd_tokens -p)
    if test -z "$(__hecd_tokens -t)"
        set -l index (count (__hecd_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'hecd' -f
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'agent' -d 'Keep the replicas declared in a manifest directory running on this Docker host.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'validate' -d 'Check a manifest directory and print every problem (file:line:column: field: message).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'status' -d 'Show desired, running and registered containers per app and host, from etcd.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'render' -d 'Render confd template resources from etcd, check them, swap them in and reload the service.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'apply' -d 'Validate manifests and write them to the cluster (/hecd/apps) in one transaction.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'scale' -d 'Set the cluster-wide replica count of apps: hecd scale web=6 api=2.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'rm' -d 'Remove apps from the cluster: their containers are stopped on every host.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'apps' -d 'List the cluster\'s apps with their slots per host, the leader and the hosts.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'rebalance' -d 'Even apps out over the hosts (all apps by default): at most one slot per app moves at a time, start-first.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'drain' -d 'Move every slot off a host and keep new ones away (hecd undrain HOST lifts it).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'undrain' -d 'Let a drained host take slots again (nothing moves back by itself).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_positional "hecd" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" manifests' -l 'manifests' -d 'Directory of app manifests, one YAML file per app (env: HECD_MANIFESTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" docker' -l 'docker' -d 'Docker engine address, unix:///PATH or tcp://HOST:PORT (env: DOCKER_HOST; TLS with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH; DOCKER_API_VERSION pins the API version).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" registry-auth' -l 'registry-auth' -d 'Registry credentials for pulls, in config.json\'s format ({"auths": …}), read at each pull (env: HECD_REGISTRY_AUTH; default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" agent-id' -l 'agent-id' -d 'Names this agent\'s containers; agents sharing an engine need distinct ids (env: HECD_AGENT_ID; default: the hostname).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" resync' -l 'resync' -d 'Seconds between full resyncs with Docker.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" backoff-initial' -l 'backoff-initial' -d 'Seconds of backoff after an app\'s second failure in a row; doubles each time.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" backoff-max' -l 'backoff-max' -d 'Longest backoff, in seconds.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" backoff-reset' -l 'backoff-reset' -d 'Seconds a container must run for its app\'s failure count to reset.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" parallel' -l 'parallel' -d 'Containers created at once.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" log-level' -l 'log-level' -d 'trace, debug, info, notice, warning (or warn), error or critical.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" host-ip' -l 'host-ip' -d 'The IP announced for this host\'s containers (env: HECD_HOST_IP).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" host-interface' -l 'host-interface' -d 'Announce the IPv4 address of this interface, e.g. eth0 (env: HECD_HOST_INTERFACE).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" ttl' -l 'ttl' -d 'Lease TTL in seconds: a dead agent\'s keys vanish after this long (env: HECD_TTL).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" drain' -l 'drain' -d 'Seconds between deregistering a container and stopping it, unless its manifest sets register.drain.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" keep-registered' -l 'keep-registered' -d 'On SIGTERM, leave the keys registered (they expire with the lease) instead of revoking the lease (env: HECD_KEEP_REGISTERED=1).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" allow-privileged' -l 'allow-privileged' -d 'Allow `privileged: true`.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" allow-host-namespaces' -l 'allow-host-namespaces' -d 'Allow the host\'s network, PID and IPC namespaces (`network: host`, `pid: host`, `ipc: host`).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" allow-devices' -l 'allow-devices' -d 'Allow `devices`.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent"' -l 'allow-cap' -d 'Allow a capability beyond Docker\'s default set in `cap_add` (repeatable or comma-separated; ALL for any).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent"' -l 'allow-bind' -d 'Allow bind mounts of this host folder and what is below it (repeatable or comma-separated). By default none.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" allow-docker-socket' -l 'allow-docker-socket' -d 'Allow binding the Docker socket (it gives a container the whole host).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" cluster' -l 'cluster' -d 'Cluster mode: also run the replicas the scheduler places on this host (hecd apply), and campaign to be the scheduler. Needs --etcd.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" host-labels' -l 'host-labels' -d 'Labels of this host for placement constraints, e.g. zone=a,disk=ssd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" no-schedule' -l 'no-schedule' -d 'Never lead the scheduler (this host still runs its slots).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" failover-delay' -l 'failover-delay' -d 'Seconds a dead host\'s slots wait before they move to other hosts.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" hecd-prefix' -l 'hecd-prefix' -d 'The cluster\'s root key in etcd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" metrics-addr' -l 'metrics-addr' -d 'Listen on HOST:PORT, e.g. 127.0.0.1:9464, for Prometheus (/metrics), health checks (/healthz, /readyz) and a status page (/) (env: HECD_METRICS_ADDR; default: no listener).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" log-format' -l 'log-format' -d 'text, or json: one object per line with time, level, logger, message and metadata (env: HECD_LOG_FORMAT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd agent" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate" policy' -l 'policy' -d 'Also check what an agent with the --allow-* flags given here would refuse (privileged, host namespaces, devices, capabilities, binds, the Docker socket).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate" allow-privileged' -l 'allow-privileged' -d 'Allow `privileged: true`.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate" allow-host-namespaces' -l 'allow-host-namespaces' -d 'Allow the host\'s network, PID and IPC namespaces (`network: host`, `pid: host`, `ipc: host`).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate" allow-devices' -l 'allow-devices' -d 'Allow `devices`.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate"' -l 'allow-cap' -d 'Allow a capability beyond Docker\'s default set in `cap_add` (repeatable or comma-separated; ALL for any).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate"' -l 'allow-bind' -d 'Allow bind mounts of this host folder and what is below it (repeatable or comma-separated). By default none.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate" allow-docker-socket' -l 'allow-docker-socket' -d 'Allow binding the Docker socket (it gives a container the whole host).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd validate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" hecd-prefix' -l 'hecd-prefix' -d 'Where the agents keep their records.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" json' -l 'json' -d 'Print JSON instead of a table.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" watch' -l 'watch' -d 'Refresh every --interval seconds until interrupted.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" interval' -l 'interval' -d 'Seconds between refreshes with --watch.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" confdir' -l 'confdir' -d 'confd folder with conf.d/ and templates/ (env: HECD_CONFDIR).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" interval' -l 'interval' -d 'Poll etcd every this many seconds instead of watching it.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" prefix' -l 'prefix' -d 'Key prefix for every resource, replacing each one\'s own prefix (confd\'s -prefix).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" keep-stage-file' -l 'keep-stage-file' -d 'Keep a staged file that check_cmd refused, next to dest (confd\'s -keep-stage-file).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" backend' -l 'backend' -d 'Where keys come from: etcdv3 (etcd\'s v3 API, the default), env (environment variables, /app/x is APP_X) or file (--file, YAML or JSON, watched).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render"' -l 'file' -d 'With --backend file: a YAML or JSON file, or a folder of them; repeat for more.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" filter' -l 'filter' -d 'With --backend file: which files of a folder to read, a glob on their names.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" debounce' -l 'debounce' -d 'Changes within this time of a render are batched until this much quiet, e.g. 50ms or 0.2s (a change after a quiet spell renders at once).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" max-wait' -l 'max-wait' -d 'Longest delay from a change to its render while changes keep coming, e.g. 1s.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" onetime' -l 'onetime' -d 'Render once and exit: non-zero when etcd cannot be read or a resource fails.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" noop' -l 'noop' -d 'Print what would change (a unified diff) and change nothing.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" sync-only' -l 'sync-only' -d 'Write the files but run no check_cmd or reload_cmd.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" dest-root' -l 'dest-root' -d 'Write every dest below this folder, e.g. /tmp/try for /tmp/try/etc/hecd/haproxy.cfg (env: HECD_DEST_ROOT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" command-timeout' -l 'command-timeout' -d 'Time limit for each check_cmd and reload_cmd, e.g. 30s.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" log-level' -l 'log-level' -d 'trace, debug, info, notice, warning (or warn), error or critical.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" metrics-addr' -l 'metrics-addr' -d 'Listen on HOST:PORT, e.g. 127.0.0.1:9464, for Prometheus (/metrics), health checks (/healthz, /readyz) and a status page (/) (env: HECD_METRICS_ADDR; default: no listener).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" log-format' -l 'log-format' -d 'text, or json: one object per line with time, level, logger, message and metadata (env: HECD_LOG_FORMAT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd render" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" dry-run' -l 'dry-run' -d 'Print what would change and write nothing.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" prune' -l 'prune' -d 'Also remove the cluster\'s apps that the directory does not have.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" watch' -l 'watch' -d 'Keep applying the directory as its files change (implies --prune).'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" hecd-prefix' -l 'hecd-prefix' -d 'The cluster\'s root key in etcd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apply" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd scale" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd scale" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd scale" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd scale" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd scale" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd scale" hecd-prefix' -l 'hecd-prefix' -d 'The cluster\'s root key in etcd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd scale" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd scale" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rm" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rm" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rm" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rm" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rm" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rm" hecd-prefix' -l 'hecd-prefix' -d 'The cluster\'s root key in etcd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rm" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apps" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apps" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apps" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apps" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apps" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apps" hecd-prefix' -l 'hecd-prefix' -d 'The cluster\'s root key in etcd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apps" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd apps" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rebalance" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rebalance" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rebalance" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rebalance" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rebalance" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rebalance" hecd-prefix' -l 'hecd-prefix' -d 'The cluster\'s root key in etcd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rebalance" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd rebalance" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd drain" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd drain" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd drain" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd drain" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd drain" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd drain" hecd-prefix' -l 'hecd-prefix' -d 'The cluster\'s root key in etcd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd drain" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd drain" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd undrain" etcd' -l 'etcd' -d 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd undrain" etcd-user' -l 'etcd-user' -d 'etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd undrain" etcd-ca' -l 'etcd-ca' -d 'CA file to verify etcd\'s certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd undrain" etcd-cert' -l 'etcd-cert' -d 'Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd undrain" etcd-key' -l 'etcd-key' -d 'Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd undrain" hecd-prefix' -l 'hecd-prefix' -d 'The cluster\'s root key in etcd.' -rfka ''
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd undrain" version' -l 'version' -d 'Show the version.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd undrain" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hecd' -n '__hecd_should_offer_completions_for_flags_or_options "hecd help" version' -l 'version' -d 'Show the version.'
