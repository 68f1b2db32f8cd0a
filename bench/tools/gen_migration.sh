#!/bin/bash
# gen_migration.sh N -- a migration script of N statements (one per line) for
# workload 4, against the tables of `pgbench -i` plus tables the script
# itself creates.  A realistic mix: new tables and their indexes (exempt,
# new), additions to existing tables, unsafe statements on the large
# pgbench_accounts (CREATE INDEX, SET NOT NULL, FOREIGN KEY without NOT
# VALID), a rename, comments, DML, and the safe forms (CONCURRENTLY,
# NOT VALID).  Deterministic: the same N gives the same file.
set -euo pipefail
n="${1:?usage: gen_migration.sh N}"
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++) {
		k = i % 12; t = int(i / 12)
		if (k == 0)       printf "CREATE TABLE mig_%d (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now());\n", t
		else if (k == 1)  printf "ALTER TABLE mig_%d ADD COLUMN email text;\n", t
		else if (k == 2)  printf "CREATE INDEX mig_%d_email_idx ON mig_%d (email);\n", t, t
		else if (k == 3)  printf "ALTER TABLE pgbench_accounts ADD COLUMN note_%d text;\n", t
		else if (k == 4)  printf "CREATE INDEX accounts_bid_%d_idx ON pgbench_accounts (bid);\n", t
		else if (k == 5)  printf "CREATE INDEX CONCURRENTLY accounts_abalance_%d_idx ON pgbench_accounts (abalance);\n", t
		else if (k == 6)  printf "ALTER TABLE pgbench_tellers RENAME COLUMN filler TO filler_%d;\n", t
		else if (k == 7)  printf "COMMENT ON TABLE pgbench_branches IS '\''migration %d'\'';\n", t
		else if (k == 8)  printf "UPDATE pgbench_branches SET bbalance = 0 WHERE bid = %d;\n", t % 10 + 1
		else if (k == 9)  printf "ALTER TABLE pgbench_accounts ALTER COLUMN abalance SET NOT NULL;\n"
		else if (k == 10) printf "ALTER TABLE pgbench_history ADD CONSTRAINT history_aid_%d_fk FOREIGN KEY (aid) REFERENCES pgbench_accounts (aid);\n", t
		else              printf "ALTER TABLE pgbench_history ADD CONSTRAINT history_bid_%d_fk FOREIGN KEY (bid) REFERENCES pgbench_branches (bid) NOT VALID;\n", t
	}
}'
