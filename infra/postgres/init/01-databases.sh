#!/bin/sh
# Runs once, when the Postgres container initialises an empty data directory
# (docker-entrypoint-initdb.d), as the POSTGRES_USER superuser.
#
# Each bounded context owns its store (ARCHITECTURE.md, rule 1): one database per service, owned
# by that service's own login role, and nobody else may connect to it. A service can therefore
# create its tables (it owns the database and, since Postgres 15, its public schema) but cannot
# even open another service's database.
#
# Each role's password comes from POSTGRES_<SERVICE>_PASSWORD (docker-compose.yml, .env.example);
# a missing one stops the initialisation. The services' DATABASE_URL carries the same value.
set -eu

services="identity tasks submissions qc ledger payouts engagement"
variable_of() { echo "POSTGRES_$(echo "$1" | tr '[:lower:]' '[:upper:]')_PASSWORD"; }

# All checked before anything is created: a half-initialised cluster is worse than none.
for service in $services; do
  if [ -z "$(printenv "$(variable_of "$service")" || true)" ]; then
    echo "01-databases.sh: $(variable_of "$service") is not set" >&2
    exit 1
  fi
done

for service in $services; do
  password=$(printenv "$(variable_of "$service")")
  # :'password' quotes the value as a literal: no SQL is built from it.
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="tessera_$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
