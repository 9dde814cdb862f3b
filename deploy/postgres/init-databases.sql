-- Local compose only: one database and one owning role per service, created on the first start
-- of an empty PostgreSQL volume. The passwords are for a laptop; production databases and roles
-- are created as docs/deploy.md describes (a migration owner and a runtime role per database).
CREATE ROLE referral LOGIN PASSWORD 'referral-local-only';
CREATE DATABASE referral OWNER referral;

CREATE ROLE directory LOGIN PASSWORD 'directory-local-only';
CREATE DATABASE directory OWNER directory;

CREATE ROLE screening LOGIN PASSWORD 'screening-local-only';
CREATE DATABASE screening OWNER screening;
