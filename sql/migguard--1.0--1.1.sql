/* migguard--1.0--1.1.sql: ALTER EXTENSION migguard UPDATE from 1.0 to 1.1 */

\echo Use "ALTER EXTENSION migguard UPDATE TO '1.1'" to load this file. \quit

-- Everything here is also in migguard--1.1.sql (a fresh install); the
-- upgrade test compares the two.

-- section: migration-level hazards (issue 15)

-- end of section: migration-level hazards

-- section: ecosystem (issue 16)

-- end of section: ecosystem

-- section: operations (issue 17)

-- end of section: operations
