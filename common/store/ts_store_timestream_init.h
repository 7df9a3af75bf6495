/*  ts_store_timestream_init - the Timestream backend's database and table
    (store init): found, or created with the retention config names.

    For `store init` (tscache-worker --store-init) and the contract suite's
    fixture. */

#ifndef TS_STORE_TIMESTREAM_INIT_H_INCLUDED
#define TS_STORE_TIMESTREAM_INIT_H_INCLUDED

#include "ts_config.h"

//  Finds or creates the database store.timestream.database
//  (DescribeDatabase, CreateDatabase) and the table
//  store.timestream.table (DescribeTable, CreateTable with memory store
//  retention store.timestream.memory_retention_hours, magnetic store
//  retention magnetic_retention_days and magnetic writes as
//  magnetic_writes). A database or table that exists is found, not an
//  error, and left as it is (its retention is reported, not changed).
//  Appends one line per thing created or found to report (may be NULL),
//  e.g. "timestream: table TimeSeriesDB.identifierTimeSeriesHistory
//  created (memory store 720 h, magnetic store 730 days, magnetic writes
//  on)". TS_ECONFIG if cfg puts another role than history on timestream;
//  else 0 or a TS_E* code with the reason in err.
int ts_store_timestream_init (const ts_config_t *cfg, ts_strlist_t *report,
                              char *err);

#endif
