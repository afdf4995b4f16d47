
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'shoots' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'shoots'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'shoots' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the daemon (an Arrow Flight server)')
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Import a CSV, TSV, Parquet, Arrow or NDJSON file as a dataframe')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Export a dataframe (or a query over it) as a table, CSV, JSON, Parquet or Arrow')
            [CompletionResult]::new('sql', 'sql', [CompletionResultType]::ParameterValue, 'Run SQL across every dataframe of every bucket')
            [CompletionResult]::new('resample', 'resample', [CompletionResultType]::ParameterValue, 'Write a resampled time series or a query''s result as a dataframe, on the server')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List dataframes with their rows, size and columns')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete dataframes, or the rows of one where a predicate holds (--where)')
            [CompletionResult]::new('retention', 'retention', [CompletionResultType]::ParameterValue, 'Keep only a dataframe''s (or a bucket''s) rows newer than a duration')
            [CompletionResult]::new('buckets', 'buckets', [CompletionResultType]::ParameterValue, 'List buckets, or delete one (`buckets rm NAME`)')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Check that the daemon answers')
            [CompletionResult]::new('shutdown', 'shutdown', [CompletionResultType]::ParameterValue, 'Stop the daemon gracefully and wait until it is gone')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'The versions of a dataframe')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'The rows added, removed (and with keys changed) between two versions of a dataframe')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Pin the versions of a bucket''s dataframes under a name; list or remove such snapshots')
            [CompletionResult]::new('compact', 'compact', [CompletionResultType]::ParameterValue, 'Rewrite a dataframe''s small files into few, then vacuum')
            [CompletionResult]::new('vacuum', 'vacuum', [CompletionResultType]::ParameterValue, 'Delete versions beyond the retention, the files only they used, and files of crashed puts')
            [CompletionResult]::new('import-legacy', 'import-legacy', [CompletionResultType]::ParameterValue, 'Import a directory written by the Python original (NAME.parquet, BUCKET/NAME.parquet)')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Mint tokens for a daemon started with --secret')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('generate-files', 'generate-files', [CompletionResultType]::ParameterValue, 'Write completions/ and man/ (kept in the repository)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'shoots;serve' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to listen on')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (0 picks a free one and prints it)')
            [CompletionResult]::new('--bucket-dir', '--bucket-dir', [CompletionResultType]::ParameterName, 'Where every bucket and dataframe lives: a directory, file://PATH, or s3://BUCKET[/PREFIX] (settings from the AWS_* environment)')
            [CompletionResult]::new('--cert-file', '--cert-file', [CompletionResultType]::ParameterName, 'PEM certificate (chain) for TLS; needs --key-file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'PEM private key for TLS; needs --cert-file')
            [CompletionResult]::new('--memory-limit', '--memory-limit', [CompletionResultType]::ParameterName, 'Memory for query execution, e.g. 512MiB or 2GiB; queries needing more spill to disk where they can, or fail cleanly')
            [CompletionResult]::new('--retain-versions', '--retain-versions', [CompletionResultType]::ParameterName, 'Versions of each dataframe that vacuum keeps (compaction vacuums too)')
            [CompletionResult]::new('--vacuum-grace', '--vacuum-grace', [CompletionResultType]::ParameterName, 'How long vacuum leaves files no retained version needs (and files of unfinished puts) before deleting them, e.g. 30m, 1h, 7d: reads and puts on other daemons of the same store get this long to finish')
            [CompletionResult]::new('--peers', '--peers', [CompletionResultType]::ParameterName, 'The other daemons of the same store (grpc://HOST:PORT or grpc+tls://HOST:PORT, comma-separated): queries large enough are spread over them and this one')
            [CompletionResult]::new('--peer-ca-file', '--peer-ca-file', [CompletionResultType]::ParameterName, 'PEM certificate(s) of the CA that grpc+tls:// peers'' certificates chain to')
            [CompletionResult]::new('--http-port', '--http-port', [CompletionResultType]::ParameterName, 'Also serve HTTP on this port (0 picks a free one): the web console at /, /health, /metrics (Prometheus) and the JSON API; https with --cert-file, the same tokens as Flight')
            [CompletionResult]::new('--pg-port', '--pg-port', [CompletionResultType]::ParameterName, 'Also answer the Postgres wire protocol on this port (0 picks a free one): psql, BI tools and drivers; the database is the bucket, TLS with --cert-file, a token as the password with --secret')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'How long a put may send nothing before the daemon cuts it off (and keeps none of it), e.g. 30s, 5m')
            [CompletionResult]::new('--retention-every', '--retention-every', [CompletionResultType]::ParameterName, 'How often the daemon drops rows older than each dataframe''s retention (`shoots retention`), e.g. 1m, 1h; also soon after one is set')
            [CompletionResult]::new('--compact-after', '--compact-after', [CompletionResultType]::ParameterName, 'Compact a dataframe in the background once a put leaves this many small files at its end (0: only when asked, with `shoots compact`)')
            [CompletionResult]::new('--pid-file', '--pid-file', [CompletionResultType]::ParameterName, 'Pid file for --daemon [default: shoots-PORT.pid in the platform state directory]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Log file for --daemon [default: shoots-PORT.log in the platform state directory]')
            [CompletionResult]::new('--store-retries', '--store-retries', [CompletionResultType]::ParameterName, 'Retries of an object store request that failed (a 5xx, a cut connection, a timeout), with exponential backoff')
            [CompletionResult]::new('--store-retry-timeout', '--store-retry-timeout', [CompletionResultType]::ParameterName, 'No retry of an object store request starts after this long since its first attempt, e.g. 20s, 2m')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'How long one attempt of an object store request may take, body included, e.g. 30s')
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'Require a token signed with this secret on every call (see `shoots token create`)')
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'Detach and run in the background, with a pid file and a log file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;put' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bucket to put it in (created if needed) [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket to put it in (created if needed) [default: the default bucket]')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'What to do when the dataframe exists')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'With --mode upsert: a column that identifies a row (repeat for a key of several columns)')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'With --mode append or upsert: merge lets the data add columns (older rows read null), leave some out (null) and widen types')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Input format [default: from the file''s extension]')
            [CompletionResult]::new('--delimiter', '--delimiter', [CompletionResultType]::ParameterName, 'Field delimiter, one character (`\t` for tab) [default: `,`; tab for TSV]')
            [CompletionResult]::new('--null', '--null', [CompletionResultType]::ParameterName, 'Text that stands for a missing value, e.g. NA (empty fields are always missing)')
            [CompletionResult]::new('--timestamp-format', '--timestamp-format', [CompletionResultType]::ParameterName, 'strftime format of timestamp columns, e.g. "%d/%m/%Y %H:%M:%S"; ISO 8601 needs none')
            [CompletionResult]::new('--infer-rows', '--infer-rows', [CompletionResultType]::ParameterName, 'Rows read to infer column types')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('--no-header', '--no-header', [CompletionResultType]::ParameterName, 'The first line is data, not column names (columns become column_1, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'shoots;get' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--sql', '--sql', [CompletionResultType]::ParameterName, 'SQL to run first; the dataframe (and every other one of its bucket) is a table')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Read this older version (see `shoots history`)')
            [CompletionResult]::new('--snapshot', '--snapshot', [CompletionResultType]::ParameterName, 'Read the version this named snapshot of the bucket pins (see `shoots snapshot`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE (format from its extension) instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to FILE (format from its extension) instead of stdout')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: from -o''s extension; a table on a terminal, CSV in a pipe]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;sql' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read the statements from FILE (`-` for stdin)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the statements from FILE (`-` for stdin)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bucket whose dataframes are tables by bare name [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket whose dataframes are tables by bare name [default: the default bucket]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: from -o''s extension; a table on a terminal, CSV in a pipe]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the result to FILE (format from its extension) instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the result to FILE (format from its extension) instead of stdout')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;resample' {
            [CompletionResult]::new('--sql', '--sql', [CompletionResultType]::ParameterName, 'Write the result of this query over SOURCE')
            [CompletionResult]::new('--rule', '--rule', [CompletionResultType]::ParameterName, 'pandas offset alias: 500ms, 10s, 1min, 1h, 1D, 250us, 100ns')
            [CompletionResult]::new('--time-col', '--time-col', [CompletionResultType]::ParameterName, 'Timestamp column to bin')
            [CompletionResult]::new('--agg', '--agg', [CompletionResultType]::ParameterName, 'mean, sum, min, max, count, first, last, median, std or var')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'What to do when TARGET exists')
            [CompletionResult]::new('--source-bucket', '--source-bucket', [CompletionResultType]::ParameterName, 'source-bucket')
            [CompletionResult]::new('--target-bucket', '--target-bucket', [CompletionResultType]::ParameterName, 'target-bucket')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'shoots;ls' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'List this bucket [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'List this bucket [default: the default bucket]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json is for scripts')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'List every bucket')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'List every bucket')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Also show version, last change, retention, the snapshots that pin it and column types')
            [CompletionResult]::new('--long', '--long', [CompletionResultType]::ParameterName, 'Also show version, last change, retention, the snapshots that pin it and column types')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;rm' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bucket they are in [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket they are in [default: the default bucket]')
            [CompletionResult]::new('--where', '--where', [CompletionResultType]::ParameterName, 'Delete only the rows where this SQL predicate is true (one dataframe), e.g. "customer_id = 42" or "ts < ''2024-01-01''"')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'No error for dataframes that do not exist')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'No error for dataframes that do not exist')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;retention' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Its bucket [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Its bucket [default: the default bucket]')
            [CompletionResult]::new('--time-col', '--time-col', [CompletionResultType]::ParameterName, 'The timestamp or date column rows are aged by')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'How long rows are kept, e.g. 30d, 12h, 2w; the daemon drops older ones in the background (every --retention-every)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('--off', '--off', [CompletionResultType]::ParameterName, 'Remove the retention: keep every row')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;buckets' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a bucket (refused while it holds dataframes, unless --force)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'shoots;buckets;rm' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Delete its dataframes too')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Delete its dataframes too')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;buckets;help' {
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a bucket (refused while it holds dataframes, unless --force)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'shoots;buckets;help;rm' {
            break
        }
        'shoots;buckets;help;help' {
            break
        }
        'shoots;ping' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;shutdown' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;history' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json is for scripts')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;diff' {
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Columns that identify a row: rows whose keys match are `changed`, with the columns that changed')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Columns that identify a row: rows whose keys match are `changed`, with the columns that changed')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE (format from its extension) instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to FILE (format from its extension) instead of stdout')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: from -o''s extension; a table on a terminal, CSV in a pipe]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;snapshot' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Pin the current version of every dataframe of a bucket (or of the ones named)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List a bucket''s snapshots')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a snapshot; what only it kept goes after the daemon''s --vacuum-grace')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'shoots;snapshot;create' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'The bucket [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'The bucket [default: the default bucket]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;snapshot;ls' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'The bucket [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'The bucket [default: the default bucket]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json is for scripts')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;snapshot;rm' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'The bucket [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'The bucket [default: the default bucket]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;snapshot;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Pin the current version of every dataframe of a bucket (or of the ones named)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List a bucket''s snapshots')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a snapshot; what only it kept goes after the daemon''s --vacuum-grace')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'shoots;snapshot;help;create' {
            break
        }
        'shoots;snapshot;help;ls' {
            break
        }
        'shoots;snapshot;help;rm' {
            break
        }
        'shoots;snapshot;help;help' {
            break
        }
        'shoots;compact' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;vacuum' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket it is in [default: the default bucket]')
            [CompletionResult]::new('--retain', '--retain', [CompletionResultType]::ParameterName, 'Versions to keep [default: the daemon''s --retain-versions]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;import-legacy' {
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'What to do with a dataframe that already exists')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Server host [default: localhost]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port [default: 8081]')
            [CompletionResult]::new('--tls-root-cert', '--tls-root-cert', [CompletionResultType]::ParameterName, 'PEM root certificate to trust (for a self-signed server); implies --tls')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Token for a server started with --secret')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'List what would be imported, import nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no summary lines')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no summary lines')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'shoots;token' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Print a new token (an HS256 JWT) on stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'shoots;token;create' {
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'The daemon''s secret')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'read: get, list, query; write: also put, delete, resample; admin: also delete buckets, shutdown')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Limit the token to this bucket (repeat for several; "" is the default bucket)')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'Lifetime, e.g. 3600s, 90m, 12h, 30d, 52w [default: no expiry]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'shoots;token;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Print a new token (an HS256 JWT) on stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'shoots;token;help;create' {
            break
        }
        'shoots;token;help;help' {
            break
        }
        'shoots;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;generate-files' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'shoots;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the daemon (an Arrow Flight server)')
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Import a CSV, TSV, Parquet, Arrow or NDJSON file as a dataframe')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Export a dataframe (or a query over it) as a table, CSV, JSON, Parquet or Arrow')
            [CompletionResult]::new('sql', 'sql', [CompletionResultType]::ParameterValue, 'Run SQL across every dataframe of every bucket')
            [CompletionResult]::new('resample', 'resample', [CompletionResultType]::ParameterValue, 'Write a resampled time series or a query''s result as a dataframe, on the server')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List dataframes with their rows, size and columns')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete dataframes, or the rows of one where a predicate holds (--where)')
            [CompletionResult]::new('retention', 'retention', [CompletionResultType]::ParameterValue, 'Keep only a dataframe''s (or a bucket''s) rows newer than a duration')
            [CompletionResult]::new('buckets', 'buckets', [CompletionResultType]::ParameterValue, 'List buckets, or delete one (`buckets rm NAME`)')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Check that the daemon answers')
            [CompletionResult]::new('shutdown', 'shutdown', [CompletionResultType]::ParameterValue, 'Stop the daemon gracefully and wait until it is gone')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'The versions of a dataframe')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'The rows added, removed (and with keys changed) between two versions of a dataframe')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Pin the versions of a bucket''s dataframes under a name; list or remove such snapshots')
            [CompletionResult]::new('compact', 'compact', [CompletionResultType]::ParameterValue, 'Rewrite a dataframe''s small files into few, then vacuum')
            [CompletionResult]::new('vacuum', 'vacuum', [CompletionResultType]::ParameterValue, 'Delete versions beyond the retention, the files only they used, and files of crashed puts')
            [CompletionResult]::new('import-legacy', 'import-legacy', [CompletionResultType]::ParameterValue, 'Import a directory written by the Python original (NAME.parquet, BUCKET/NAME.parquet)')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Mint tokens for a daemon started with --secret')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('generate-files', 'generate-files', [CompletionResultType]::ParameterValue, 'Write completions/ and man/ (kept in the repository)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'shoots;help;serve' {
            break
        }
        'shoots;help;put' {
            break
        }
        'shoots;help;get' {
            break
        }
        'shoots;help;sql' {
            break
        }
        'shoots;help;resample' {
            break
        }
        'shoots;help;ls' {
            break
        }
        'shoots;help;rm' {
            break
        }
        'shoots;help;retention' {
            break
        }
        'shoots;help;buckets' {
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a bucket (refused while it holds dataframes, unless --force)')
            break
        }
        'shoots;help;buckets;rm' {
            break
        }
        'shoots;help;ping' {
            break
        }
        'shoots;help;shutdown' {
            break
        }
        'shoots;help;history' {
            break
        }
        'shoots;help;diff' {
            break
        }
        'shoots;help;snapshot' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Pin the current version of every dataframe of a bucket (or of the ones named)')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List a bucket''s snapshots')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a snapshot; what only it kept goes after the daemon''s --vacuum-grace')
            break
        }
        'shoots;help;snapshot;create' {
            break
        }
        'shoots;help;snapshot;ls' {
            break
        }
        'shoots;help;snapshot;rm' {
            break
        }
        'shoots;help;compact' {
            break
        }
        'shoots;help;vacuum' {
            break
        }
        'shoots;help;import-legacy' {
            break
        }
        'shoots;help;token' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Print a new token (an HS256 JWT) on stdout')
            break
        }
        'shoots;help;token;create' {
            break
        }
        'shoots;help;completions' {
            break
        }
        'shoots;help;generate-files' {
            break
        }
        'shoots;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
