# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_shoots_global_optspecs
    string join \n h/help V/version
end

function __fish_shoots_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_shoots_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_shoots_using_subcommand
    set -l cmd (__fish_shoots_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c shoots -n "__fish_shoots_needs_command" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_needs_command" -s V -l version -d 'Print version'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "serve" -d 'Run the daemon (an Arrow Flight server)'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "put" -d 'Import a CSV, TSV, Parquet, Arrow or NDJSON file as a dataframe'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "get" -d 'Export a dataframe (or a query over it) as a table, CSV, JSON, Parquet or Arrow'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "sql" -d 'Run SQL across every dataframe of every bucket'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "resample" -d 'Write a resampled time series or a query\'s result as a dataframe, on the server'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "ls" -d 'List dataframes with their rows, size and columns'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "rm" -d 'Delete dataframes, or the rows of one where a predicate holds (--where)'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "retention" -d 'Keep only a dataframe\'s (or a bucket\'s) rows newer than a duration'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "buckets" -d 'List buckets, or delete one (`buckets rm NAME`)'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "ping" -d 'Check that the daemon answers'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "shutdown" -d 'Stop the daemon gracefully and wait until it is gone'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "history" -d 'The versions of a dataframe'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "diff" -d 'The rows added, removed (and with keys changed) between two versions of a dataframe'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "snapshot" -d 'Pin the versions of a bucket\'s dataframes under a name; list or remove such snapshots'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "compact" -d 'Rewrite a dataframe\'s small files into few, then vacuum'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "vacuum" -d 'Delete versions beyond the retention, the files only they used, and files of crashed puts'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "import-legacy" -d 'Import a directory written by the Python original (NAME.parquet, BUCKET/NAME.parquet)'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "token" -d 'Mint tokens for a daemon started with --secret'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "generate-files" -d 'Write completions/ and man/ (kept in the repository)'
complete -c shoots -n "__fish_shoots_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l host -d 'Address to listen on' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l port -d 'Port to listen on (0 picks a free one and prints it)' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l bucket-dir -d 'Where every bucket and dataframe lives: a directory, file://PATH, or s3://BUCKET[/PREFIX] (settings from the AWS_* environment)' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l cert-file -d 'PEM certificate (chain) for TLS; needs --key-file' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l key-file -d 'PEM private key for TLS; needs --cert-file' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l memory-limit -d 'Memory for query execution, e.g. 512MiB or 2GiB; queries needing more spill to disk where they can, or fail cleanly' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l retain-versions -d 'Versions of each dataframe that vacuum keeps (compaction vacuums too)' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l vacuum-grace -d 'How long vacuum leaves files no retained version needs (and files of unfinished puts) before deleting them, e.g. 30m, 1h, 7d: reads and puts on other daemons of the same store get this long to finish' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l peers -d 'The other daemons of the same store (grpc://HOST:PORT or grpc+tls://HOST:PORT, comma-separated): queries large enough are spread over them and this one' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l peer-ca-file -d 'PEM certificate(s) of the CA that grpc+tls:// peers\' certificates chain to' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l http-port -d 'Also serve HTTP on this port (0 picks a free one): the web console at /, /health, /metrics (Prometheus) and the JSON API; https with --cert-file, the same tokens as Flight' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l pg-port -d 'Also answer the Postgres wire protocol on this port (0 picks a free one): psql, BI tools and drivers; the database is the bucket, TLS with --cert-file, a token as the password with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l idle-timeout -d 'How long a put may send nothing before the daemon cuts it off (and keeps none of it), e.g. 30s, 5m' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l retention-every -d 'How often the daemon drops rows older than each dataframe\'s retention (`shoots retention`), e.g. 1m, 1h; also soon after one is set' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l compact-after -d 'Compact a dataframe in the background once a put leaves this many small files at its end (0: only when asked, with `shoots compact`)' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l pid-file -d 'Pid file for --daemon [default: shoots-PORT.pid in the platform state directory]' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l log-file -d 'Log file for --daemon [default: shoots-PORT.log in the platform state directory]' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l store-retries -d 'Retries of an object store request that failed (a 5xx, a cut connection, a timeout), with exponential backoff' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l store-retry-timeout -d 'No retry of an object store request starts after this long since its first attempt, e.g. 20s, 2m' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l store-timeout -d 'How long one attempt of an object store request may take, body included, e.g. 30s' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l secret -d 'Require a token signed with this secret on every call (see `shoots token create`)' -r
complete -c shoots -n "__fish_shoots_using_subcommand serve" -l daemon -d 'Detach and run in the background, with a pid file and a log file'
complete -c shoots -n "__fish_shoots_using_subcommand serve" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand put" -s b -l bucket -d 'Bucket to put it in (created if needed) [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l mode -d 'What to do when the dataframe exists' -r -f -a "error\t'Refuse if the dataframe exists'
append\t'Add the rows to the dataframe (same columns and types)'
replace\t'Replace the dataframe'
upsert\t'Replace the rows whose --key columns match the data\'s, append the rest'"
complete -c shoots -n "__fish_shoots_using_subcommand put" -l key -d 'With --mode upsert: a column that identifies a row (repeat for a key of several columns)' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l schema -d 'With --mode append or upsert: merge lets the data add columns (older rows read null), leave some out (null) and widen types' -r -f -a "exact\t'The data must have the dataframe\'s columns and types'
merge\t'New columns are added, missing ones are null, types may widen'"
complete -c shoots -n "__fish_shoots_using_subcommand put" -l format -d 'Input format [default: from the file\'s extension]' -r -f -a "csv\t''
tsv\t''
parquet\t''
arrow\t'Arrow IPC, file or stream format (told apart by their magic bytes)'
ndjson\t''"
complete -c shoots -n "__fish_shoots_using_subcommand put" -l delimiter -d 'Field delimiter, one character (`\\t` for tab) [default: `,`; tab for TSV]' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l null -d 'Text that stands for a missing value, e.g. NA (empty fields are always missing)' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l timestamp-format -d 'strftime format of timestamp columns, e.g. "%d/%m/%Y %H:%M:%S"; ISO 8601 needs none' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l infer-rows -d 'Rows read to infer column types' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand put" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand put" -l no-header -d 'The first line is data, not column names (columns become column_1, ...)'
complete -c shoots -n "__fish_shoots_using_subcommand put" -s q -l quiet -d 'Print no summary line'
complete -c shoots -n "__fish_shoots_using_subcommand put" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand put" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shoots -n "__fish_shoots_using_subcommand get" -s b -l bucket -d 'Bucket it is in [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand get" -l sql -d 'SQL to run first; the dataframe (and every other one of its bucket) is a table' -r
complete -c shoots -n "__fish_shoots_using_subcommand get" -l version -d 'Read this older version (see `shoots history`)' -r
complete -c shoots -n "__fish_shoots_using_subcommand get" -l snapshot -d 'Read the version this named snapshot of the bucket pins (see `shoots snapshot`)' -r
complete -c shoots -n "__fish_shoots_using_subcommand get" -s o -l output -d 'Write to FILE (format from its extension) instead of stdout' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand get" -l format -d 'Output format [default: from -o\'s extension; a table on a terminal, CSV in a pipe]' -r -f -a "table\t''
csv\t''
tsv\t''
json\t''
ndjson\t''
parquet\t''
arrow\t''"
complete -c shoots -n "__fish_shoots_using_subcommand get" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand get" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand get" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand get" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand get" -s q -l quiet -d 'Print no summary line'
complete -c shoots -n "__fish_shoots_using_subcommand get" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand get" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand sql" -s f -l file -d 'Read the statements from FILE (`-` for stdin)' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand sql" -s b -l bucket -d 'Bucket whose dataframes are tables by bare name [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand sql" -l format -d 'Output format [default: from -o\'s extension; a table on a terminal, CSV in a pipe]' -r -f -a "table\t''
csv\t''
tsv\t''
json\t''
ndjson\t''
parquet\t''
arrow\t''"
complete -c shoots -n "__fish_shoots_using_subcommand sql" -s o -l output -d 'Write the result to FILE (format from its extension) instead of stdout' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand sql" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand sql" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand sql" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand sql" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand sql" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand sql" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l sql -d 'Write the result of this query over SOURCE' -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l rule -d 'pandas offset alias: 500ms, 10s, 1min, 1h, 1D, 250us, 100ns' -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l time-col -d 'Timestamp column to bin' -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l agg -d 'mean, sum, min, max, count, first, last, median, std or var' -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l mode -d 'What to do when TARGET exists' -r -f -a "error\t'Refuse if the dataframe exists'
append\t'Add the rows to the dataframe (same columns and types)'
replace\t'Replace the dataframe'
upsert\t'Replace the rows whose --key columns match the data\'s, append the rest'"
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l source-bucket -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l target-bucket -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand resample" -s q -l quiet -d 'Print no summary line'
complete -c shoots -n "__fish_shoots_using_subcommand resample" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand resample" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shoots -n "__fish_shoots_using_subcommand ls" -s b -l bucket -d 'List this bucket [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand ls" -l format -d 'Output format; json is for scripts' -r -f -a "text\t''
json\t''"
complete -c shoots -n "__fish_shoots_using_subcommand ls" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand ls" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand ls" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand ls" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand ls" -s a -l all -d 'List every bucket'
complete -c shoots -n "__fish_shoots_using_subcommand ls" -s l -l long -d 'Also show version, last change, retention, the snapshots that pin it and column types'
complete -c shoots -n "__fish_shoots_using_subcommand ls" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand ls" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand rm" -s b -l bucket -d 'Bucket they are in [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand rm" -l where -d 'Delete only the rows where this SQL predicate is true (one dataframe), e.g. "customer_id = 42" or "ts < \'2024-01-01\'"' -r
complete -c shoots -n "__fish_shoots_using_subcommand rm" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand rm" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand rm" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand rm" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand rm" -s f -l force -d 'No error for dataframes that do not exist'
complete -c shoots -n "__fish_shoots_using_subcommand rm" -s q -l quiet -d 'Print nothing on success'
complete -c shoots -n "__fish_shoots_using_subcommand rm" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand rm" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand retention" -s b -l bucket -d 'Its bucket [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand retention" -l time-col -d 'The timestamp or date column rows are aged by' -r
complete -c shoots -n "__fish_shoots_using_subcommand retention" -l keep -d 'How long rows are kept, e.g. 30d, 12h, 2w; the daemon drops older ones in the background (every --retention-every)' -r
complete -c shoots -n "__fish_shoots_using_subcommand retention" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand retention" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand retention" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand retention" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand retention" -l off -d 'Remove the retention: keep every row'
complete -c shoots -n "__fish_shoots_using_subcommand retention" -s q -l quiet -d 'Print nothing on success'
complete -c shoots -n "__fish_shoots_using_subcommand retention" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand retention" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and not __fish_seen_subcommand_from rm help" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and not __fish_seen_subcommand_from rm help" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and not __fish_seen_subcommand_from rm help" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and not __fish_seen_subcommand_from rm help" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and not __fish_seen_subcommand_from rm help" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and not __fish_seen_subcommand_from rm help" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and not __fish_seen_subcommand_from rm help" -f -a "rm" -d 'Delete a bucket (refused while it holds dataframes, unless --force)'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and not __fish_seen_subcommand_from rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from rm" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from rm" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from rm" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from rm" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from rm" -s f -l force -d 'Delete its dataframes too'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print nothing on success'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from rm" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Delete a bucket (refused while it holds dataframes, unless --force)'
complete -c shoots -n "__fish_shoots_using_subcommand buckets; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c shoots -n "__fish_shoots_using_subcommand ping" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand ping" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand ping" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand ping" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand ping" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand ping" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand shutdown" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand shutdown" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand shutdown" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand shutdown" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand shutdown" -s q -l quiet -d 'Print nothing on success'
complete -c shoots -n "__fish_shoots_using_subcommand shutdown" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand shutdown" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand history" -s b -l bucket -d 'Bucket it is in [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand history" -l format -d 'Output format; json is for scripts' -r -f -a "text\t''
json\t''"
complete -c shoots -n "__fish_shoots_using_subcommand history" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand history" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand history" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand history" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand history" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand history" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand diff" -s k -l key -d 'Columns that identify a row: rows whose keys match are `changed`, with the columns that changed' -r
complete -c shoots -n "__fish_shoots_using_subcommand diff" -s b -l bucket -d 'Bucket it is in [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand diff" -s o -l output -d 'Write to FILE (format from its extension) instead of stdout' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand diff" -l format -d 'Output format [default: from -o\'s extension; a table on a terminal, CSV in a pipe]' -r -f -a "table\t''
csv\t''
tsv\t''
json\t''
ndjson\t''
parquet\t''
arrow\t''"
complete -c shoots -n "__fish_shoots_using_subcommand diff" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand diff" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand diff" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand diff" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand diff" -s q -l quiet -d 'Print no summary line'
complete -c shoots -n "__fish_shoots_using_subcommand diff" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand diff" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and not __fish_seen_subcommand_from create ls rm help" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and not __fish_seen_subcommand_from create ls rm help" -f -a "create" -d 'Pin the current version of every dataframe of a bucket (or of the ones named)'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and not __fish_seen_subcommand_from create ls rm help" -f -a "ls" -d 'List a bucket\'s snapshots'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and not __fish_seen_subcommand_from create ls rm help" -f -a "rm" -d 'Remove a snapshot; what only it kept goes after the daemon\'s --vacuum-grace'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and not __fish_seen_subcommand_from create ls rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s b -l bucket -d 'The bucket [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print no summary line'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -s b -l bucket -d 'The bucket [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l format -d 'Output format; json is for scripts' -r -f -a "text\t''
json\t''"
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -s b -l bucket -d 'The bucket [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print no summary line'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "create" -d 'Pin the current version of every dataframe of a bucket (or of the ones named)'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List a bucket\'s snapshots'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove a snapshot; what only it kept goes after the daemon\'s --vacuum-grace'
complete -c shoots -n "__fish_shoots_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c shoots -n "__fish_shoots_using_subcommand compact" -s b -l bucket -d 'Bucket it is in [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand compact" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand compact" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand compact" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand compact" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand compact" -s q -l quiet -d 'Print no summary line'
complete -c shoots -n "__fish_shoots_using_subcommand compact" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand compact" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -s b -l bucket -d 'Bucket it is in [default: the default bucket]' -r
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -l retain -d 'Versions to keep [default: the daemon\'s --retain-versions]' -r
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -s q -l quiet -d 'Print no summary line'
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand vacuum" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -l mode -d 'What to do with a dataframe that already exists' -r -f -a "error\t'Refuse if the dataframe exists'
append\t'Add the rows to the dataframe (same columns and types)'
replace\t'Replace the dataframe'
upsert\t'Replace the rows whose --key columns match the data\'s, append the rest'"
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -l host -d 'Server host [default: localhost]' -r
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -l port -d 'Server port [default: 8081]' -r
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -l tls-root-cert -d 'PEM root certificate to trust (for a self-signed server); implies --tls' -r -F
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -l token -d 'Token for a server started with --secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -l dry-run -d 'List what would be imported, import nothing'
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -s q -l quiet -d 'Print no summary lines'
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -l tls -d 'Connect with TLS'
complete -c shoots -n "__fish_shoots_using_subcommand import-legacy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shoots -n "__fish_shoots_using_subcommand token; and not __fish_seen_subcommand_from create help" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand token; and not __fish_seen_subcommand_from create help" -f -a "create" -d 'Print a new token (an HS256 JWT) on stdout'
complete -c shoots -n "__fish_shoots_using_subcommand token; and not __fish_seen_subcommand_from create help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c shoots -n "__fish_shoots_using_subcommand token; and __fish_seen_subcommand_from create" -l secret -d 'The daemon\'s secret' -r
complete -c shoots -n "__fish_shoots_using_subcommand token; and __fish_seen_subcommand_from create" -l role -d 'read: get, list, query; write: also put, delete, resample; admin: also delete buckets, shutdown' -r -f -a "read\t'get, list, query'
write\t'also put, delete, resample'
admin\t'also delete buckets and shut the daemon down'"
complete -c shoots -n "__fish_shoots_using_subcommand token; and __fish_seen_subcommand_from create" -l bucket -d 'Limit the token to this bucket (repeat for several; "" is the default bucket)' -r
complete -c shoots -n "__fish_shoots_using_subcommand token; and __fish_seen_subcommand_from create" -l expires -d 'Lifetime, e.g. 3600s, 90m, 12h, 30d, 52w [default: no expiry]' -r
complete -c shoots -n "__fish_shoots_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shoots -n "__fish_shoots_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Print a new token (an HS256 JWT) on stdout'
complete -c shoots -n "__fish_shoots_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c shoots -n "__fish_shoots_using_subcommand completions" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand generate-files" -s h -l help -d 'Print help'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "serve" -d 'Run the daemon (an Arrow Flight server)'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "put" -d 'Import a CSV, TSV, Parquet, Arrow or NDJSON file as a dataframe'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "get" -d 'Export a dataframe (or a query over it) as a table, CSV, JSON, Parquet or Arrow'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "sql" -d 'Run SQL across every dataframe of every bucket'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "resample" -d 'Write a resampled time series or a query\'s result as a dataframe, on the server'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "ls" -d 'List dataframes with their rows, size and columns'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "rm" -d 'Delete dataframes, or the rows of one where a predicate holds (--where)'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "retention" -d 'Keep only a dataframe\'s (or a bucket\'s) rows newer than a duration'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "buckets" -d 'List buckets, or delete one (`buckets rm NAME`)'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "ping" -d 'Check that the daemon answers'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "shutdown" -d 'Stop the daemon gracefully and wait until it is gone'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "history" -d 'The versions of a dataframe'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "diff" -d 'The rows added, removed (and with keys changed) between two versions of a dataframe'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "snapshot" -d 'Pin the versions of a bucket\'s dataframes under a name; list or remove such snapshots'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "compact" -d 'Rewrite a dataframe\'s small files into few, then vacuum'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "vacuum" -d 'Delete versions beyond the retention, the files only they used, and files of crashed puts'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "import-legacy" -d 'Import a directory written by the Python original (NAME.parquet, BUCKET/NAME.parquet)'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "token" -d 'Mint tokens for a daemon started with --secret'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "completions" -d 'Print a shell completion script'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "generate-files" -d 'Write completions/ and man/ (kept in the repository)'
complete -c shoots -n "__fish_shoots_using_subcommand help; and not __fish_seen_subcommand_from serve put get sql resample ls rm retention buckets ping shutdown history diff snapshot compact vacuum import-legacy token completions generate-files help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c shoots -n "__fish_shoots_using_subcommand help; and __fish_seen_subcommand_from buckets" -f -a "rm" -d 'Delete a bucket (refused while it holds dataframes, unless --force)'
complete -c shoots -n "__fish_shoots_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "create" -d 'Pin the current version of every dataframe of a bucket (or of the ones named)'
complete -c shoots -n "__fish_shoots_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "ls" -d 'List a bucket\'s snapshots'
complete -c shoots -n "__fish_shoots_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "rm" -d 'Remove a snapshot; what only it kept goes after the daemon\'s --vacuum-grace'
complete -c shoots -n "__fish_shoots_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Print a new token (an HS256 JWT) on stdout'
