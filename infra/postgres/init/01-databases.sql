-- Runs once, when the Postgres container initialises an empty data directory
-- (docker-entrypoint-initdb.d), as the POSTGRES_USER superuser.
--
-- Each bounded context owns its store (ARCHITECTURE.md, rule 1): one database per service, owned
-- by that service's own login role, and nobody else may connect to it. A service can therefore
-- create its tables (it owns the database and, since Postgres 15, its public schema) but cannot
-- even open another service's database.
--
-- Development credentials: each role's password is its name. A real deployment creates the roles
-- with secrets of its own and passes them in DATABASE_URL.

\set ON_ERROR_STOP on

CREATE ROLE tessera_identity LOGIN PASSWORD 'tessera_identity';
CREATE DATABASE tessera_identity OWNER tessera_identity;
REVOKE ALL ON DATABASE tessera_identity FROM PUBLIC;

CREATE ROLE tessera_tasks LOGIN PASSWORD 'tessera_tasks';
CREATE DATABASE tessera_tasks OWNER tessera_tasks;
REVOKE ALL ON DATABASE tessera_tasks FROM PUBLIC;

CREATE ROLE tessera_submissions LOGIN PASSWORD 'tessera_submissions';
CREATE DATABASE tessera_submissions OWNER tessera_submissions;
REVOKE ALL ON DATABASE tessera_submissions FROM PUBLIC;

CREATE ROLE tessera_qc LOGIN PASSWORD 'tessera_qc';
CREATE DATABASE tessera_qc OWNER tessera_qc;
REVOKE ALL ON DATABASE tessera_qc FROM PUBLIC;

CREATE ROLE tessera_ledger LOGIN PASSWORD 'tessera_ledger';
CREATE DATABASE tessera_ledger OWNER tessera_ledger;
REVOKE ALL ON DATABASE tessera_ledger FROM PUBLIC;

CREATE ROLE tessera_payouts LOGIN PASSWORD 'tessera_payouts';
CREATE DATABASE tessera_payouts OWNER tessera_payouts;
REVOKE ALL ON DATABASE tessera_payouts FROM PUBLIC;

CREATE ROLE tessera_engagement LOGIN PASSWORD 'tessera_engagement';
CREATE DATABASE tessera_engagement OWNER tessera_engagement;
REVOKE ALL ON DATABASE tessera_engagement FROM PUBLIC;
