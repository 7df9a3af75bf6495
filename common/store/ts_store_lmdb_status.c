/*  ts_store_lmdb_status - the fetch status of registered ids in the LMDB
    backend: the "status" table, its records, marks and reads.

        status    id -> created_ms (int64) of the registration it belongs
                  to, ok_ms, attempt_ms, error_ms, not_found_until_ms
                  (int64 each), kind length (uint8), kind, then the
                  error's detail (the rest)

    A table of its own rather than more bytes in the ids record: the ids
    record ends with the source's name (no length), so every record
    written before statuses stays as it was and an id without a status
    record reads as never fetched; the format stays 2 (a binary without
    statuses ignores the table). A status record is deleted with its id;
    if a binary without statuses removed the id and it was registered
    again, the record's created_ms is not the new registration's and it
    reads as never fetched. A malformed record reads as never fetched
    too (the next mark rewrites it).

    Part of the LMDB backend (ts_store_lmdb.h). */

#include <string.h>

#include "ts_store_lmdb.h"

#define S_HEAD  (5 * 8 + 1)     //  created_ms .. not_found_until_ms, kind
                                //  length

//  Decodes a status record of the registration created at created_ms.
static void
s_decode (const MDB_val *val, int64_t created_ms, ts_store_status_t *status)
{
    memset (status, 0, sizeof *status);
    const unsigned char *p = val->mv_data;
    if (val->mv_size < S_HEAD)
        return;
    int64_t fields [5];
    memcpy (fields, p, sizeof fields);
    size_t kind_len = p [sizeof fields];
    if (fields [0] != created_ms || kind_len >= sizeof status->kind
    ||  val->mv_size < S_HEAD + kind_len)
        return;
    status->ok_ms = fields [1];
    status->attempt_ms = fields [2];
    status->error_ms = fields [3];
    status->not_found_until_ms = fields [4];
    memcpy (status->kind, p + S_HEAD, kind_len);
    status->kind [kind_len] = '\0';
    size_t error_len = val->mv_size - S_HEAD - kind_len;
    if (error_len >= sizeof status->error)
        error_len = sizeof status->error - 1;
    memcpy (status->error, p + S_HEAD + kind_len, error_len);
    status->error [error_len] = '\0';
}

//  The created_ms of an ids record (0 for a malformed one).
static int64_t
s_created_ms (const MDB_val *record)
{
    int64_t created_ms = 0;
    if (record->mv_size >= TS_STORE_LMDB_ID_CREATED)
        memcpy (&created_ms, record->mv_data, sizeof created_ms);
    return created_ms;
}

int
ts_store_lmdb_status_get (ts_store_lmdb_t *self, MDB_txn *txn,
                          const char *id, const MDB_val *record,
                          ts_store_status_t *status)
{
    memset (status, 0, sizeof *status);
    MDB_val key = { strlen (id), (void *) id }, val;
    int rc = mdb_get (txn, self->status, &key, &val);
    if (rc == 0)
        s_decode (&val, s_created_ms (record), status);
    return rc == MDB_NOTFOUND? 0: rc;
}

int
ts_store_lmdb_status_delete (ts_store_lmdb_t *self, MDB_txn *txn,
                             const char *id)
{
    MDB_val key = { strlen (id), (void *) id };
    int rc = mdb_del (txn, self->status, &key, NULL);
    return rc == MDB_NOTFOUND? 0: rc;
}

int
ts_store_lmdb_status_mark (ts_store_lmdb_t *self, MDB_txn *txn,
                           const ts_store_mark_t *mark)
{
    MDB_val key = { strlen (mark->id), (void *) mark->id }, record;
    int rc = mdb_get (txn, self->ids, &key, &record);
    if (rc)
        return rc == MDB_NOTFOUND? 0: rc;   //  not registered: ignored
    int64_t created_ms = s_created_ms (&record);
    ts_store_status_t status;
    rc = ts_store_lmdb_status_get (self, txn, mark->id, &record, &status);
    if (rc || !ts_store_status_apply (&status, mark))
        return rc;
    size_t kind_len = strlen (status.kind);
    size_t error_len = strlen (status.error);
    unsigned char buf [S_HEAD + sizeof status.kind + sizeof status.error];
    int64_t fields [5] = { created_ms, status.ok_ms, status.attempt_ms,
                           status.error_ms, status.not_found_until_ms };
    memcpy (buf, fields, sizeof fields);
    buf [sizeof fields] = (unsigned char) kind_len;
    memcpy (buf + S_HEAD, status.kind, kind_len);
    memcpy (buf + S_HEAD + kind_len, status.error, error_len);
    MDB_val val = { S_HEAD + kind_len + error_len, buf };
    rc = mdb_put (txn, self->status, &key, &val, 0);
    if (rc == 0)
        rc = ts_store_lmdb_stamp_touch (self, txn, mark->id,
                                        TS_STORE_LMDB_KEEP_EXPIRY);
    return rc;
}

int
ts_store_lmdb_ids_status (void *state, const char *id, bool *exists,
                          ts_store_status_t *status, char *err)
{
    ts_store_lmdb_t *self = state;
    memset (status, 0, sizeof *status);
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    MDB_val key = { strlen (id), (void *) id }, record;
    rc = mdb_get (txn, self->ids, &key, &record);
    *exists = rc == 0;
    if (rc == 0)
        rc = ts_store_lmdb_status_get (self, txn, id, &record, status);
    ts_store_lmdb_abort (self, txn);
    return rc == 0 || rc == MDB_NOTFOUND? 0
         : ts_store_lmdb_fail (self, rc, err);
}

int
ts_store_lmdb_ids_mark (void *state, const ts_store_mark_t *marks, size_t n,
                        char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = ts_store_lmdb_status_mark (self, txn, &marks [i]);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    return ts_store_lmdb_commit (self, txn, err);
}
