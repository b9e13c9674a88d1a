#!/bin/sh
# The example PostgreSQL's first start and every start (see postgres.Containerfile).
set -eu
: "${PGDATA:?}" "${POSTGRES_PASSWORD_FILE:?a file with the password of the registry role}"
role=${REGISTRY_ROLE:-registry}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" && chmod 0700 "$PGDATA"
    # The superuser connects only over the socket inside this container; the registry role by password.
    initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    pg_ctl --pgdata="$PGDATA" --silent --wait \
        --options="-c listen_addresses='' -c unix_socket_directories=/tmp" start
    password=$(cat "$POSTGRES_PASSWORD_FILE")
    psql --quiet --host=/tmp --username=postgres --dbname=postgres --set=ON_ERROR_STOP=1 \
        --set=role="$role" --set=password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
SQL
    for database in ${POSTGRES_DATABASES:-registry}; do
        psql --quiet --host=/tmp --username=postgres --dbname=postgres --set=ON_ERROR_STOP=1 \
            --command="CREATE DATABASE \"$database\" OWNER \"$role\""
    done
    pg_ctl --pgdata="$PGDATA" --silent --wait --mode=fast stop
    echo "postgres-entrypoint: made the cluster, role $role and databases ${POSTGRES_DATABASES:-registry}"
fi
exec postgres -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
