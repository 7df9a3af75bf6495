/*  ts_store_dynamodb_init - the DynamoDB backend's tables: creates what
    the config names (store.dynamodb.registry_table, forecast_table) in
    the shape docs/dynamodb.md gives, and deletes them (tests).

    For `store init` (a binary that may link the AWS plumbing) and the
    contract suite's fixture. */

#ifndef TS_STORE_DYNAMODB_INIT_H_INCLUDED
#define TS_STORE_DYNAMODB_INIT_H_INCLUDED

#include "ts_config.h"

//  Creates the registry table (partition key identifier, S) and the
//  forecast table (identifier, S; time, N; TTL on expiry where the
//  endpoint has TTL) of the roles cfg puts on dynamodb, PAY_PER_REQUEST, and waits until both are ACTIVE.
//  A table that exists already is found, not an error. Appends one line
//  per thing created or found to report (may be NULL). Returns 0 or a
//  TS_E* code with the reason in err.
int ts_store_dynamodb_init (const ts_config_t *cfg, ts_strlist_t *report,
                            char *err);

//  Deletes both tables (those that exist). For tests.
int ts_store_dynamodb_drop (const ts_config_t *cfg, char *err);

#endif
