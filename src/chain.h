/*-------------------------------------------------------------------------
 *
 * chain.h
 *		The hash chain of migguard.change_log (chain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_CHAIN_H
#define MIGGUARD_CHAIN_H

#include "access/transam.h"
#include "lib/stringinfo.h"

#define MG_HASH_LEN 32			/* SHA-256 */

/* The newest row's hash, for a database whose chain head is not known. */
typedef struct MigguardChainSeed
{
	bool		has_hash;
	uint8		hash[MG_HASH_LEN];
} MigguardChainSeed;

/* What a row stores: prev_hash, prev_xid, row_hash. */
typedef struct MigguardChainLink
{
	bool		has_prev;
	uint8		prev[MG_HASH_LEN];
	FullTransactionId prev_xid;
	uint8		hash[MG_HASH_LEN];
} MigguardChainLink;

extern void migguard_chain_init(void);
extern void migguard_chain_encode_column(StringInfo buf, Oid type, Datum value,
										 bool isnull);
extern void migguard_chain_hash(const uint8 *prev, int64 id,
								const StringInfo middle,
								FullTransactionId prev_xid, uint8 *out);
extern bool migguard_chain_head_known(Oid relid);
extern MigguardChainSeed migguard_chain_read_seed(const char *target);
extern void migguard_chain_link(Oid relid, int64 id, const StringInfo middle,
								const MigguardChainSeed *seed,
								MigguardChainLink *link);
extern const char *const *migguard_chain_middle_columns(int *n);

#endif							/* MIGGUARD_CHAIN_H */
