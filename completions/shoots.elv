
use builtin;
use str;

set edit:completion:arg-completer[shoots] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'shoots'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'shoots'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Run the daemon (an Arrow Flight server)'
            cand put 'Import a CSV, TSV, Parquet, Arrow or NDJSON file as a dataframe'
            cand get 'Export a dataframe (or a query over it) as a table, CSV, JSON, Parquet or Arrow'
            cand sql 'Run SQL across every dataframe of every bucket'
            cand resample 'Write a resampled time series or a query''s result as a dataframe, on the server'
            cand ls 'List dataframes with their rows, size and columns'
            cand rm 'Delete dataframes, or the rows of one where a predicate holds (--where)'
            cand retention 'Keep only a dataframe''s (or a bucket''s) rows newer than a duration'
            cand buckets 'List buckets, or delete one (`buckets rm NAME`)'
            cand ping 'Check that the daemon answers'
            cand shutdown 'Stop the daemon gracefully and wait until it is gone'
            cand history 'The versions of a dataframe'
            cand diff 'The rows added, removed (and with keys changed) between two versions of a dataframe'
            cand snapshot 'Pin the versions of a bucket''s dataframes under a name; list or remove such snapshots'
            cand compact 'Rewrite a dataframe''s small files into few, then vacuum'
            cand vacuum 'Delete versions beyond the retention, the files only they used, and files of crashed puts'
            cand import-legacy 'Import a directory written by the Python original (NAME.parquet, BUCKET/NAME.parquet)'
            cand token 'Mint tokens for a daemon started with --secret'
            cand completions 'Print a shell completion script'
            cand generate-files 'Write completions/ and man/ (kept in the repository)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'shoots;serve'= {
            cand --host 'Address to listen on'
            cand --port 'Port to listen on (0 picks a free one and prints it)'
            cand --bucket-dir 'Where every bucket and dataframe lives: a directory, file://PATH, or s3://BUCKET[/PREFIX] (settings from the AWS_* environment)'
            cand --cert-file 'PEM certificate (chain) for TLS; needs --key-file'
            cand --key-file 'PEM private key for TLS; needs --cert-file'
            cand --memory-limit 'Memory for query execution, e.g. 512MiB or 2GiB; queries needing more spill to disk where they can, or fail cleanly'
            cand --retain-versions 'Versions of each dataframe that vacuum keeps (compaction vacuums too)'
            cand --vacuum-grace 'How long vacuum leaves files no retained version needs (and files of unfinished puts) before deleting them, e.g. 30m, 1h, 7d: reads and puts on other daemons of the same store get this long to finish'
            cand --peers 'The other daemons of the same store (grpc://HOST:PORT or grpc+tls://HOST:PORT, comma-separated): queries large enough are spread over them and this one'
            cand --peer-ca-file 'PEM certificate(s) of the CA that grpc+tls:// peers'' certificates chain to'
            cand --http-port 'Also serve HTTP on this port (0 picks a free one): the web console at /, /health, /metrics (Prometheus) and the JSON API; https with --cert-file, the same tokens as Flight'
            cand --pg-port 'Also answer the Postgres wire protocol on this port (0 picks a free one): psql, BI tools and drivers; the database is the bucket, TLS with --cert-file, a token as the password with --secret'
            cand --idle-timeout 'How long a put may send nothing before the daemon cuts it off (and keeps none of it), e.g. 30s, 5m'
            cand --retention-every 'How often the daemon drops rows older than each dataframe''s retention (`shoots retention`), e.g. 1m, 1h; also soon after one is set'
            cand --compact-after 'Compact a dataframe in the background once a put leaves this many small files at its end (0: only when asked, with `shoots compact`)'
            cand --pid-file 'Pid file for --daemon [default: shoots-PORT.pid in the platform state directory]'
            cand --log-file 'Log file for --daemon [default: shoots-PORT.log in the platform state directory]'
            cand --store-retries 'Retries of an object store request that failed (a 5xx, a cut connection, a timeout), with exponential backoff'
            cand --store-retry-timeout 'No retry of an object store request starts after this long since its first attempt, e.g. 20s, 2m'
            cand --store-timeout 'How long one attempt of an object store request may take, body included, e.g. 30s'
            cand --secret 'Require a token signed with this secret on every call (see `shoots token create`)'
            cand --daemon 'Detach and run in the background, with a pid file and a log file'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;put'= {
            cand -b 'Bucket to put it in (created if needed) [default: the default bucket]'
            cand --bucket 'Bucket to put it in (created if needed) [default: the default bucket]'
            cand --mode 'What to do when the dataframe exists'
            cand --key 'With --mode upsert: a column that identifies a row (repeat for a key of several columns)'
            cand --schema 'With --mode append or upsert: merge lets the data add columns (older rows read null), leave some out (null) and widen types'
            cand --format 'Input format [default: from the file''s extension]'
            cand --delimiter 'Field delimiter, one character (`\t` for tab) [default: `,`; tab for TSV]'
            cand --null 'Text that stands for a missing value, e.g. NA (empty fields are always missing)'
            cand --timestamp-format 'strftime format of timestamp columns, e.g. "%d/%m/%Y %H:%M:%S"; ISO 8601 needs none'
            cand --infer-rows 'Rows read to infer column types'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand --no-header 'The first line is data, not column names (columns become column_1, ...)'
            cand -q 'Print no summary line'
            cand --quiet 'Print no summary line'
            cand --tls 'Connect with TLS'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'shoots;get'= {
            cand -b 'Bucket it is in [default: the default bucket]'
            cand --bucket 'Bucket it is in [default: the default bucket]'
            cand --sql 'SQL to run first; the dataframe (and every other one of its bucket) is a table'
            cand --version 'Read this older version (see `shoots history`)'
            cand --snapshot 'Read the version this named snapshot of the bucket pins (see `shoots snapshot`)'
            cand -o 'Write to FILE (format from its extension) instead of stdout'
            cand --output 'Write to FILE (format from its extension) instead of stdout'
            cand --format 'Output format [default: from -o''s extension; a table on a terminal, CSV in a pipe]'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -q 'Print no summary line'
            cand --quiet 'Print no summary line'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;sql'= {
            cand -f 'Read the statements from FILE (`-` for stdin)'
            cand --file 'Read the statements from FILE (`-` for stdin)'
            cand -b 'Bucket whose dataframes are tables by bare name [default: the default bucket]'
            cand --bucket 'Bucket whose dataframes are tables by bare name [default: the default bucket]'
            cand --format 'Output format [default: from -o''s extension; a table on a terminal, CSV in a pipe]'
            cand -o 'Write the result to FILE (format from its extension) instead of stdout'
            cand --output 'Write the result to FILE (format from its extension) instead of stdout'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;resample'= {
            cand --sql 'Write the result of this query over SOURCE'
            cand --rule 'pandas offset alias: 500ms, 10s, 1min, 1h, 1D, 250us, 100ns'
            cand --time-col 'Timestamp column to bin'
            cand --agg 'mean, sum, min, max, count, first, last, median, std or var'
            cand --mode 'What to do when TARGET exists'
            cand --source-bucket 'source-bucket'
            cand --target-bucket 'target-bucket'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -q 'Print no summary line'
            cand --quiet 'Print no summary line'
            cand --tls 'Connect with TLS'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'shoots;ls'= {
            cand -b 'List this bucket [default: the default bucket]'
            cand --bucket 'List this bucket [default: the default bucket]'
            cand --format 'Output format; json is for scripts'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -a 'List every bucket'
            cand --all 'List every bucket'
            cand -l 'Also show version, last change, retention, the snapshots that pin it and column types'
            cand --long 'Also show version, last change, retention, the snapshots that pin it and column types'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;rm'= {
            cand -b 'Bucket they are in [default: the default bucket]'
            cand --bucket 'Bucket they are in [default: the default bucket]'
            cand --where 'Delete only the rows where this SQL predicate is true (one dataframe), e.g. "customer_id = 42" or "ts < ''2024-01-01''"'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -f 'No error for dataframes that do not exist'
            cand --force 'No error for dataframes that do not exist'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;retention'= {
            cand -b 'Its bucket [default: the default bucket]'
            cand --bucket 'Its bucket [default: the default bucket]'
            cand --time-col 'The timestamp or date column rows are aged by'
            cand --keep 'How long rows are kept, e.g. 30d, 12h, 2w; the daemon drops older ones in the background (every --retention-every)'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand --off 'Remove the retention: keep every row'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;buckets'= {
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
            cand rm 'Delete a bucket (refused while it holds dataframes, unless --force)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'shoots;buckets;rm'= {
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -f 'Delete its dataframes too'
            cand --force 'Delete its dataframes too'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;buckets;help'= {
            cand rm 'Delete a bucket (refused while it holds dataframes, unless --force)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'shoots;buckets;help;rm'= {
        }
        &'shoots;buckets;help;help'= {
        }
        &'shoots;ping'= {
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;shutdown'= {
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;history'= {
            cand -b 'Bucket it is in [default: the default bucket]'
            cand --bucket 'Bucket it is in [default: the default bucket]'
            cand --format 'Output format; json is for scripts'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;diff'= {
            cand -k 'Columns that identify a row: rows whose keys match are `changed`, with the columns that changed'
            cand --key 'Columns that identify a row: rows whose keys match are `changed`, with the columns that changed'
            cand -b 'Bucket it is in [default: the default bucket]'
            cand --bucket 'Bucket it is in [default: the default bucket]'
            cand -o 'Write to FILE (format from its extension) instead of stdout'
            cand --output 'Write to FILE (format from its extension) instead of stdout'
            cand --format 'Output format [default: from -o''s extension; a table on a terminal, CSV in a pipe]'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -q 'Print no summary line'
            cand --quiet 'Print no summary line'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;snapshot'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand create 'Pin the current version of every dataframe of a bucket (or of the ones named)'
            cand ls 'List a bucket''s snapshots'
            cand rm 'Remove a snapshot; what only it kept goes after the daemon''s --vacuum-grace'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'shoots;snapshot;create'= {
            cand -b 'The bucket [default: the default bucket]'
            cand --bucket 'The bucket [default: the default bucket]'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -q 'Print no summary line'
            cand --quiet 'Print no summary line'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;snapshot;ls'= {
            cand -b 'The bucket [default: the default bucket]'
            cand --bucket 'The bucket [default: the default bucket]'
            cand --format 'Output format; json is for scripts'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;snapshot;rm'= {
            cand -b 'The bucket [default: the default bucket]'
            cand --bucket 'The bucket [default: the default bucket]'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -q 'Print no summary line'
            cand --quiet 'Print no summary line'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;snapshot;help'= {
            cand create 'Pin the current version of every dataframe of a bucket (or of the ones named)'
            cand ls 'List a bucket''s snapshots'
            cand rm 'Remove a snapshot; what only it kept goes after the daemon''s --vacuum-grace'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'shoots;snapshot;help;create'= {
        }
        &'shoots;snapshot;help;ls'= {
        }
        &'shoots;snapshot;help;rm'= {
        }
        &'shoots;snapshot;help;help'= {
        }
        &'shoots;compact'= {
            cand -b 'Bucket it is in [default: the default bucket]'
            cand --bucket 'Bucket it is in [default: the default bucket]'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -q 'Print no summary line'
            cand --quiet 'Print no summary line'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;vacuum'= {
            cand -b 'Bucket it is in [default: the default bucket]'
            cand --bucket 'Bucket it is in [default: the default bucket]'
            cand --retain 'Versions to keep [default: the daemon''s --retain-versions]'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand -q 'Print no summary line'
            cand --quiet 'Print no summary line'
            cand --tls 'Connect with TLS'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;import-legacy'= {
            cand --mode 'What to do with a dataframe that already exists'
            cand --host 'Server host [default: localhost]'
            cand --port 'Server port [default: 8081]'
            cand --tls-root-cert 'PEM root certificate to trust (for a self-signed server); implies --tls'
            cand --token 'Token for a server started with --secret'
            cand --dry-run 'List what would be imported, import nothing'
            cand -q 'Print no summary lines'
            cand --quiet 'Print no summary lines'
            cand --tls 'Connect with TLS'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'shoots;token'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand create 'Print a new token (an HS256 JWT) on stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'shoots;token;create'= {
            cand --secret 'The daemon''s secret'
            cand --role 'read: get, list, query; write: also put, delete, resample; admin: also delete buckets, shutdown'
            cand --bucket 'Limit the token to this bucket (repeat for several; "" is the default bucket)'
            cand --expires 'Lifetime, e.g. 3600s, 90m, 12h, 30d, 52w [default: no expiry]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'shoots;token;help'= {
            cand create 'Print a new token (an HS256 JWT) on stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'shoots;token;help;create'= {
        }
        &'shoots;token;help;help'= {
        }
        &'shoots;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;generate-files'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'shoots;help'= {
            cand serve 'Run the daemon (an Arrow Flight server)'
            cand put 'Import a CSV, TSV, Parquet, Arrow or NDJSON file as a dataframe'
            cand get 'Export a dataframe (or a query over it) as a table, CSV, JSON, Parquet or Arrow'
            cand sql 'Run SQL across every dataframe of every bucket'
            cand resample 'Write a resampled time series or a query''s result as a dataframe, on the server'
            cand ls 'List dataframes with their rows, size and columns'
            cand rm 'Delete dataframes, or the rows of one where a predicate holds (--where)'
            cand retention 'Keep only a dataframe''s (or a bucket''s) rows newer than a duration'
            cand buckets 'List buckets, or delete one (`buckets rm NAME`)'
            cand ping 'Check that the daemon answers'
            cand shutdown 'Stop the daemon gracefully and wait until it is gone'
            cand history 'The versions of a dataframe'
            cand diff 'The rows added, removed (and with keys changed) between two versions of a dataframe'
            cand snapshot 'Pin the versions of a bucket''s dataframes under a name; list or remove such snapshots'
            cand compact 'Rewrite a dataframe''s small files into few, then vacuum'
            cand vacuum 'Delete versions beyond the retention, the files only they used, and files of crashed puts'
            cand import-legacy 'Import a directory written by the Python original (NAME.parquet, BUCKET/NAME.parquet)'
            cand token 'Mint tokens for a daemon started with --secret'
            cand completions 'Print a shell completion script'
            cand generate-files 'Write completions/ and man/ (kept in the repository)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'shoots;help;serve'= {
        }
        &'shoots;help;put'= {
        }
        &'shoots;help;get'= {
        }
        &'shoots;help;sql'= {
        }
        &'shoots;help;resample'= {
        }
        &'shoots;help;ls'= {
        }
        &'shoots;help;rm'= {
        }
        &'shoots;help;retention'= {
        }
        &'shoots;help;buckets'= {
            cand rm 'Delete a bucket (refused while it holds dataframes, unless --force)'
        }
        &'shoots;help;buckets;rm'= {
        }
        &'shoots;help;ping'= {
        }
        &'shoots;help;shutdown'= {
        }
        &'shoots;help;history'= {
        }
        &'shoots;help;diff'= {
        }
        &'shoots;help;snapshot'= {
            cand create 'Pin the current version of every dataframe of a bucket (or of the ones named)'
            cand ls 'List a bucket''s snapshots'
            cand rm 'Remove a snapshot; what only it kept goes after the daemon''s --vacuum-grace'
        }
        &'shoots;help;snapshot;create'= {
        }
        &'shoots;help;snapshot;ls'= {
        }
        &'shoots;help;snapshot;rm'= {
        }
        &'shoots;help;compact'= {
        }
        &'shoots;help;vacuum'= {
        }
        &'shoots;help;import-legacy'= {
        }
        &'shoots;help;token'= {
            cand create 'Print a new token (an HS256 JWT) on stdout'
        }
        &'shoots;help;token;create'= {
        }
        &'shoots;help;completions'= {
        }
        &'shoots;help;generate-files'= {
        }
        &'shoots;help;help'= {
        }
    ]
    $completions[$command]
}
