-- Creates partitions :from .. :to of part_prof (hash, modulus 2000), one
-- CREATE TABLE ... PARTITION OF per partition, as a migration would.  Used
-- by bench/run to profile partition creation on B.
SELECT format('CREATE TABLE part_prof_%s PARTITION OF part_prof FOR VALUES WITH (MODULUS 2000, REMAINDER %s)', r, r)
FROM generate_series(:from, :to) r
\gexec
