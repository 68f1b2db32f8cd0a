-- Workload 1: utility statements only.  Every statement reaches the
-- ProcessUtility hook and leaves through migguard's fast path.
BEGIN;
SET LOCAL work_mem = '8MB';
SHOW work_mem;
COMMIT;
