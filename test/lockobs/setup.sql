-- test/lockobs/setup.sql -- the schema the corpus (corpus.sql) runs against.
--
-- Run once in the template database of lockobs_test.py, after CREATE
-- EXTENSION migguard.  Every table has rows, so that destructive rules and
-- scans see data; each corpus entry runs against exactly this state (it is
-- rolled back, or its "-- after:" lines restore it).  Tablespace lockobs_ts
-- and role lockobs_role exist (the test creates them: both are global).

-- A plain table with every kind of column, index, constraint and object a
-- subcommand can act on.
CREATE TABLE t (
	id int PRIMARY KEY,
	a int,
	b text,
	c int NOT NULL DEFAULT 0,
	d varchar(10),
	e numeric(10, 2),
	g int GENERATED ALWAYS AS (a * 2) STORED,
	nn int NOT NULL DEFAULT 1
);
INSERT INTO t (id, a, b, c, d, e)
SELECT i, i, 'x' || i, i, 'v', i FROM generate_series(1, 100) i;
CREATE INDEX t_a_idx ON t (a);
CREATE INDEX t_b_idx ON t (b);
CREATE INDEX t_lower_b_idx ON t (lower(b));
CREATE UNIQUE INDEX t_d_id_uidx ON t (d, id);
ALTER TABLE t ADD CONSTRAINT t_c_check CHECK (c >= 0);
ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0) NOT VALID;
ALTER TABLE t ADD CONSTRAINT t_a_not_null CHECK (a IS NOT NULL);
CREATE STATISTICS t_stat ON a, c FROM t;
ALTER TABLE t CLUSTER ON t_pkey;
CREATE FUNCTION trg_fn() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER t_trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg_fn();
CREATE RULE t_rule AS ON UPDATE TO t DO ALSO NOTIFY t_changed;
CREATE POLICY t_pol ON t USING (true);

-- A table without a primary key, for ADD PRIMARY KEY / USING INDEX.
CREATE TABLE u (id int NOT NULL, k int, w int);
INSERT INTO u SELECT i, i, i FROM generate_series(1, 50) i;
CREATE UNIQUE INDEX u_id_uidx ON u (id);
CREATE UNIQUE INDEX u_k_uidx ON u (k);

-- Foreign keys: c references p; c2 has a NOT VALID one; fk-free q for
-- adding new ones.
CREATE TABLE p (id int PRIMARY KEY, name text UNIQUE);
INSERT INTO p SELECT i, 'p' || i FROM generate_series(1, 10) i;
CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p (id), v int);
INSERT INTO c SELECT i, 1 + i % 10, i FROM generate_series(1, 50) i;
CREATE INDEX c_pid_idx ON c (pid);
CREATE TABLE c2 (id int, pid int);
INSERT INTO c2 SELECT i, 1 + i % 10 FROM generate_series(1, 20) i;
ALTER TABLE c2 ADD CONSTRAINT c2_pid_fkey FOREIGN KEY (pid) REFERENCES p (id) NOT VALID;
CREATE TABLE q (id int, pid int, pname text);
INSERT INTO q SELECT i, 1 + i % 10, 'p1' FROM generate_series(1, 20) i;

-- Range partitions (pt1 with an index not yet attached), a table to attach
-- with and without a constraint implying its bound.
CREATE TABLE pt (id int, v int, k int) PARTITION BY RANGE (id);
CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);
CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (100) TO (200);
INSERT INTO pt SELECT i, i, i FROM generate_series(0, 199) i;
CREATE INDEX pt_v_idx ON ONLY pt (v);
CREATE INDEX pt1_v_idx ON pt1 (v);
CREATE INDEX pt2_v_idx ON pt2 (v);
ALTER INDEX pt_v_idx ATTACH PARTITION pt2_v_idx;
CREATE INDEX pt_k_idx ON pt (k);
CREATE TABLE ptx (id int, v int, k int);
INSERT INTO ptx SELECT i, i, i FROM generate_series(200, 250) i;
CREATE TABLE pty (id int, v int, k int, CONSTRAINT pty_bound CHECK (id >= 300 AND id < 400));
INSERT INTO pty SELECT i, i, i FROM generate_series(300, 310) i;

-- List partitions with a default partition.
CREATE TABLE pl (id int, region text) PARTITION BY LIST (region);
CREATE TABLE pl_eu PARTITION OF pl FOR VALUES IN ('eu');
CREATE TABLE pl_def PARTITION OF pl DEFAULT;
INSERT INTO pl VALUES (1, 'eu'), (2, 'us'), (3, 'asia');
CREATE TABLE plx (id int, region text);
INSERT INTO plx VALUES (4, 'jp');

-- A partitioned table with a foreign key.
CREATE TABLE pf (id int, pid int REFERENCES p (id)) PARTITION BY RANGE (id);
CREATE TABLE pf1 PARTITION OF pf FOR VALUES FROM (0) TO (100);
INSERT INTO pf VALUES (1, 1);
CREATE TABLE pfx (id int, pid int);
INSERT INTO pfx VALUES (150, 1);

-- Inheritance.
CREATE TABLE ih (id int, v int);
CREATE TABLE ih_c1 () INHERITS (ih);
INSERT INTO ih VALUES (1, 1);
INSERT INTO ih_c1 VALUES (2, 2);
CREATE TABLE ih_other (id int, v int);
INSERT INTO ih_other VALUES (3, 3);

-- Views and materialized views.
CREATE VIEW v_t AS SELECT id, a FROM t;
CREATE VIEW v_vt AS SELECT id FROM v_t;
CREATE MATERIALIZED VIEW mv AS SELECT id, a FROM t;
CREATE UNIQUE INDEX mv_id_idx ON mv (id);

-- Domains and the tables that use them.
CREATE DOMAIN dpos AS int;
ALTER DOMAIN dpos ADD CONSTRAINT dpos_nv CHECK (VALUE > 0) NOT VALID;
CREATE TABLE dt (id int, x dpos);
INSERT INTO dt VALUES (1, 1), (2, 2);

-- A composite type with a typed table.
CREATE TYPE comp AS (f1 int, f2 text);
CREATE TABLE tt OF comp;
INSERT INTO tt VALUES (1, 'a');

-- An enum in use.
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE et (id int, m mood);
INSERT INTO et VALUES (1, 'ok');

-- Sequences and identity.
CREATE SEQUENCE s1;
CREATE TABLE ts (id int DEFAULT nextval('s1'));
INSERT INTO ts DEFAULT VALUES;
CREATE TABLE ti (id int GENERATED BY DEFAULT AS IDENTITY, v int);
INSERT INTO ti (v) VALUES (1);

-- An unlogged table, a table in lockobs_ts, a table to drop, an empty one.
CREATE UNLOGGED TABLE tu (id int);
INSERT INTO tu VALUES (1);
CREATE TABLE tsp (id int) TABLESPACE lockobs_ts;
INSERT INTO tsp VALUES (1);
CREATE TABLE tdrop (id int);
INSERT INTO tdrop VALUES (1);
CREATE TABLE tempty (id int);
CREATE TABLE tof (f1 int, f2 text);

-- A foreign table (no handler: DDL works, scans do not).
CREATE FOREIGN DATA WRAPPER lockobs_fdw;
CREATE SERVER lockobs_srv FOREIGN DATA WRAPPER lockobs_fdw;
CREATE FOREIGN TABLE ft (id int, v int) SERVER lockobs_srv;

CREATE SCHEMA other;
CREATE SCHEMA doomed;
CREATE TABLE doomed.dd (id int);
INSERT INTO doomed.dd VALUES (1);

ANALYZE;
