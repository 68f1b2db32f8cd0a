--
-- versions_temporal: PostgreSQL 18's temporal keys (issue 14), judged by
-- the running server's rules.  The forms exist from 18 on: on 15 and 17
-- (versions_temporal.out) PostgreSQL's own syntax errors are the expected
-- output; 18 and 19 are versions_temporal_1.out.  The key columns are
-- ranges, whose GiST opclass has the = a WITHOUT OVERLAPS key needs for
-- its other columns (no btree_gist: 18's build has no contrib).
--
-- Proves, where the forms exist,
--   * ADD PRIMARY KEY / UNIQUE (..., col WITHOUT OVERLAPS) builds a GiST
--     index under ACCESS EXCLUSIVE: add_unique_constraint (and set_not_null
--     for each column of a primary key), and the hint does NOT offer
--     CREATE UNIQUE INDEX CONCURRENTLY + USING INDEX, which PostgreSQL
--     refuses for such a key (both refusals shown: GiST cannot be UNIQUE,
--     USING INDEX takes a unique index);
--   * FOREIGN KEY (..., PERIOD col) is validated by a scan:
--     add_constraint_scan, whose NOT VALID + VALIDATE recipe works for it
--     (both run);
--   * fk_without_index: an index that starts with the columns before
--     PERIOD serves the referenced side's lookups (= on them, && on the
--     period): no warning with one (a btree, or the GiST index of the
--     referencing table's own temporal key), a warning without.
--
SET migguard.mode = off;
CREATE SCHEMA tk;
CREATE TABLE tk.rooms (id int4range, valid_at daterange, name text);
INSERT INTO tk.rooms SELECT int4range(g, g + 1), daterange('2020-01-01', '2021-01-01'), 'r'
FROM generate_series(1, 100) g;
CREATE TABLE tk.bookings (room_id int4range, valid_at daterange);
INSERT INTO tk.bookings SELECT int4range(g, g + 1), daterange('2020-02-01', '2020-03-01')
FROM generate_series(1, 100) g;
SET migguard.mode = enforce;
SET migguard.large_table_size = 0;
SET migguard.rules = 'lock_timeout=off';

-- Temporal primary key and unique constraint: no online way.
ALTER TABLE tk.rooms ADD CONSTRAINT rooms_pkey PRIMARY KEY (id, valid_at WITHOUT OVERLAPS);
ALTER TABLE tk.rooms ADD CONSTRAINT rooms_key UNIQUE (id, valid_at WITHOUT OVERLAPS);
SET migguard.mode = off;
CREATE UNIQUE INDEX rooms_u ON tk.rooms USING gist (id, valid_at);
CREATE INDEX rooms_gist ON tk.rooms USING gist (id, valid_at);
ALTER TABLE tk.rooms ADD CONSTRAINT rooms_pkey PRIMARY KEY USING INDEX rooms_gist;
ALTER TABLE tk.rooms ADD CONSTRAINT rooms_pkey PRIMARY KEY (id, valid_at WITHOUT OVERLAPS);
SET migguard.mode = enforce;

-- Temporal foreign key: a scan; NOT VALID, then VALIDATE.
ALTER TABLE tk.bookings ADD CONSTRAINT bookings_fk
	FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES tk.rooms (id, PERIOD valid_at);
ALTER TABLE tk.bookings ADD CONSTRAINT bookings_fk
	FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES tk.rooms (id, PERIOD valid_at) NOT VALID;
ALTER TABLE tk.bookings VALIDATE CONSTRAINT bookings_fk;

-- An index on the columns before PERIOD serves the lookups.
SET migguard.mode = off;
ALTER TABLE tk.bookings DROP CONSTRAINT bookings_fk;
CREATE INDEX bookings_room ON tk.bookings (room_id);
SET migguard.mode = enforce;
ALTER TABLE tk.bookings ADD CONSTRAINT bookings_fk
	FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES tk.rooms (id, PERIOD valid_at) NOT VALID;
SET migguard.mode = off;
ALTER TABLE tk.bookings DROP CONSTRAINT bookings_fk;
DROP INDEX tk.bookings_room;
ALTER TABLE tk.bookings ADD CONSTRAINT bookings_pkey PRIMARY KEY (room_id, valid_at WITHOUT OVERLAPS);
SET migguard.mode = enforce;
ALTER TABLE tk.bookings ADD CONSTRAINT bookings_fk
	FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES tk.rooms (id, PERIOD valid_at) NOT VALID;

SET migguard.mode = off;
DROP SCHEMA tk CASCADE;
