/* An organisation's links as at a date: one seek in the org_links table, whose key is
 * code ++ 0 ++ effective date (4 bytes big-endian) ++ sequence. */
#include "projection_link.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "fundflow/limits.h"
#include "ledger_write.h"

#define PROJECTION_LINK_SEEK_BYTES (FF_ORG_CODE_BYTES_MAX + 1 + 4)

/* What every stored link is: effective on a real day, written by an event. Checked after it is
 * read back (projection_org.c writes it from a checked organisation). */
static void projection_link_assert_valid(const Fundflow__V1__OrgLinkRecord *links,
                                         uint32_t date) {
    assert(links->sequence >= 1 && links->effective_from <= date);
    assert(links->n_member_codes <= FF_MEMBERS_MAX);
}

ff_err projection_org_links_at(store_txn *txn, ff_store *store, const char *code, uint32_t date,
                               Fundflow__V1__OrgLinkRecord **links_out) {
    *links_out = NULL;
    size_t code_bytes = strlen(code);
    if (code_bytes == 0 || code_bytes > FF_ORG_CODE_BYTES_MAX) return FF_ERR_NOT_FOUND;
    uint8_t seek[PROJECTION_LINK_SEEK_BYTES];
    memcpy(seek, code, code_bytes);
    seek[code_bytes] = 0;
    /* The first version effective after the date, then one back. */
    uint32_t after = date == UINT32_MAX ? date : date + 1;
    for (int i = 0; i < 4; i++) seek[code_bytes + 1 + i] = (uint8_t)(after >> (24 - 8 * i));
    store_cursor *cursor = NULL;
    ff_err err = store_cursor_open(txn, store, STORE_TABLE_ORG_LINKS, &cursor);
    if (err != FF_OK) return err;
    store_slice key = STORE_SLICE(seek, code_bytes + 5), value;
    err = store_cursor_move(cursor, STORE_SEEK, &key, &value);
    if (err == FF_OK || err == FF_ERR_NOT_FOUND) {
        err = store_cursor_move(cursor, err == FF_OK ? STORE_PREV : STORE_LAST, &key, &value);
    }
    bool this_org = err == FF_OK && key.bytes == code_bytes + 5 + LOG_KEY_BYTES &&
                    memcmp(key.data, seek, code_bytes + 1) == 0;
    if (err == FF_OK && !this_org) err = FF_ERR_NOT_FOUND;
    if (err == FF_OK) {
        *links_out = fundflow__v1__org_link_record__unpack(NULL, value.bytes, value.data);
        err = *links_out ? FF_OK : FF_ERR_STORAGE;
    }
    if (err == FF_OK) projection_link_assert_valid(*links_out, date);
    store_cursor_close(cursor);
    return err;
}
